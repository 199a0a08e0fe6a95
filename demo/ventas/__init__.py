"""Mirror of the shop's ``ventas`` app: unmanaged models, schema, seed data, legacy alert rules.

Test and benchmark fixture only; it is not shipped with forneria-ops.
"""
