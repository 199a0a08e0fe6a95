"""forneria-ops: maintenance sidecar for Django shops."""

from forneria_ops._core import __version__

__all__ = ["__version__"]
