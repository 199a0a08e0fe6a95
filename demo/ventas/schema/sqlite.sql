-- The same tables as mysql.sql, in the closest SQLite terms.
--
-- Why SQLite at all: the shop (and Django's default) runs SQLite in development, and the engine
-- supports it. Mapping: INT -> integer, VARCHAR -> varchar (text affinity), DECIMAL -> NUMERIC
-- (note: SQLite stores 5.000 as the integer 5 and 2.500 as the real 2.5; Django's DecimalField
-- quantizes on read), DATE/DATETIME/TIMESTAMP -> date/datetime text ('YYYY-MM-DD',
-- 'YYYY-MM-DD HH:MM:SS', UTC), TINYINT(1) -> bool, ENUM -> text with a CHECK constraint.
-- ON UPDATE CURRENT_TIMESTAMP has no SQLite equivalent and is left out.
-- Index names are global in SQLite, so the names MySQL repeats across tables (idx_estado,
-- idx_origen) carry their table's name here.
--
-- Runs as a script: drops the tables first (children before parents), then creates them.

DROP TABLE IF EXISTS movimientos_inventario;
DROP TABLE IF EXISTS historial_merma;
DROP TABLE IF EXISTS alertas;
DROP TABLE IF EXISTS lotes;
DROP TABLE IF EXISTS detalle_factura_proveedor;
DROP TABLE IF EXISTS factura_proveedor;
DROP TABLE IF EXISTS productos;
DROP TABLE IF EXISTS proveedor;
DROP TABLE IF EXISTS nutricional;
DROP TABLE IF EXISTS categorias;

CREATE TABLE categorias (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    nombre varchar(100) NULL DEFAULT NULL,
    descripcion varchar(200) NULL DEFAULT NULL
);

CREATE TABLE nutricional (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    calorias integer NULL DEFAULT NULL,
    proteinas NUMERIC(5, 2) NULL DEFAULT NULL,
    carbohidratos NUMERIC(5, 2) NULL DEFAULT NULL,
    azucares NUMERIC(10, 2) NULL DEFAULT NULL,
    sodio NUMERIC(10, 2) NULL DEFAULT NULL,
    grasas NUMERIC(5, 2) NULL DEFAULT NULL
);

CREATE TABLE proveedor (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    nombre varchar(150) NOT NULL,
    rut varchar(12) NULL DEFAULT NULL UNIQUE,
    contacto varchar(100) NULL DEFAULT NULL,
    telefono varchar(20) NULL DEFAULT NULL,
    email varchar(100) NULL DEFAULT NULL,
    direccion varchar(200) NULL DEFAULT NULL,
    ciudad varchar(100) NULL DEFAULT NULL,
    region varchar(100) NULL DEFAULT NULL,
    estado varchar(8) NOT NULL DEFAULT 'activo' CHECK (estado IN ('activo', 'inactivo')),
    notas text NULL,
    creado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    modificado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    eliminado datetime NULL DEFAULT NULL
);
CREATE INDEX proveedor_idx_estado ON proveedor (estado);
CREATE INDEX proveedor_idx_nombre ON proveedor (nombre);

CREATE TABLE productos (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    nombre varchar(100) NOT NULL,
    descripcion varchar(300) NULL DEFAULT NULL,
    marca varchar(100) NULL DEFAULT NULL,
    precio NUMERIC(10, 2) NOT NULL,
    caducidad date NULL DEFAULT NULL,
    elaboracion date NULL DEFAULT NULL,
    tipo varchar(100) NULL DEFAULT NULL,
    stock_actual integer NULL DEFAULT NULL,
    stock_minimo integer NULL DEFAULT NULL,
    stock_maximo integer NULL DEFAULT NULL,
    presentacion varchar(100) NULL DEFAULT NULL,
    formato varchar(100) NULL DEFAULT NULL,
    creado datetime NULL DEFAULT NULL,
    modificado datetime NULL DEFAULT NULL,
    eliminado datetime NULL DEFAULT NULL,
    categorias_id integer NOT NULL REFERENCES categorias (id),
    nutricional_id integer NOT NULL REFERENCES nutricional (id),
    cantidad NUMERIC(10, 3) NOT NULL DEFAULT 0.000,
    estado_merma varchar(20) NOT NULL DEFAULT 'activo',
    motivo_merma text NULL,
    fecha_merma datetime NULL DEFAULT NULL,
    cantidad_merma integer NULL DEFAULT 0,
    unidad_stock varchar(6) NOT NULL DEFAULT 'unidad'
        CHECK (unidad_stock IN ('unidad', 'kg', 'g', 'l', 'ml')),
    unidad_venta varchar(6) NOT NULL DEFAULT 'unidad'
        CHECK (unidad_venta IN ('unidad', 'kg', 'g', 'l', 'ml')),
    precio_por_unidad_venta NUMERIC(10, 2) NOT NULL
);
CREATE INDEX fk_productos_categorias1_idx ON productos (categorias_id);
CREATE INDEX fk_productos_nutricional1_idx ON productos (nutricional_id);

CREATE TABLE factura_proveedor (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    numero_factura varchar(50) NOT NULL,
    fecha_factura date NOT NULL,
    fecha_vencimiento date NULL DEFAULT NULL,
    fecha_recepcion date NULL DEFAULT NULL,
    subtotal_sin_iva NUMERIC(10, 2) NULL DEFAULT NULL,
    descuento NUMERIC(10, 2) NOT NULL DEFAULT 0.00,
    total_iva NUMERIC(10, 2) NULL DEFAULT NULL,
    total_con_iva NUMERIC(10, 2) NOT NULL DEFAULT 0.00,
    estado_pago varchar(9) NOT NULL DEFAULT 'pendiente'
        CHECK (estado_pago IN ('pendiente', 'pagado', 'parcial', 'atrasado', 'cancelado')),
    observaciones text NULL,
    creado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    modificado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    eliminado datetime NULL DEFAULT NULL,
    proveedor_id integer NOT NULL
        REFERENCES proveedor (id) ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE UNIQUE INDEX numero_factura_UNIQUE ON factura_proveedor (numero_factura);
CREATE INDEX fk_factura_proveedor_proveedor1_idx ON factura_proveedor (proveedor_id);
CREATE INDEX idx_estado_pago ON factura_proveedor (estado_pago);
CREATE INDEX idx_fecha_factura ON factura_proveedor (fecha_factura);

CREATE TABLE detalle_factura_proveedor (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    cantidad integer NOT NULL,
    precio_unitario NUMERIC(10, 2) NOT NULL,
    descuento_pct NUMERIC(5, 2) NULL DEFAULT 0.00,
    subtotal NUMERIC(10, 2) NOT NULL DEFAULT 0.00,
    fecha_vencimiento_producto date NULL DEFAULT NULL,
    lote varchar(50) NULL DEFAULT NULL,
    observaciones varchar(300) NULL DEFAULT NULL,
    factura_proveedor_id integer NOT NULL
        REFERENCES factura_proveedor (id) ON DELETE CASCADE ON UPDATE CASCADE,
    productos_id integer NOT NULL
        REFERENCES productos (id) ON DELETE RESTRICT ON UPDATE CASCADE
);
CREATE INDEX fk_detalle_factura_proveedor_factura_proveedor1_idx
    ON detalle_factura_proveedor (factura_proveedor_id);
CREATE INDEX fk_detalle_factura_proveedor_productos1_idx
    ON detalle_factura_proveedor (productos_id);

CREATE TABLE lotes (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    productos_id integer NOT NULL REFERENCES productos (id) ON DELETE CASCADE,
    detalle_factura_proveedor_id integer NULL DEFAULT NULL
        REFERENCES detalle_factura_proveedor (id) ON DELETE SET NULL,
    numero_lote varchar(50) NULL DEFAULT NULL,
    cantidad NUMERIC(10, 3) NOT NULL DEFAULT 0.000,
    cantidad_inicial NUMERIC(10, 3) NOT NULL,
    fecha_elaboracion date NULL DEFAULT NULL,
    fecha_caducidad date NOT NULL,
    fecha_recepcion datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    origen varchar(17) NOT NULL DEFAULT 'produccion_propia'
        CHECK (origen IN ('compra', 'produccion_propia', 'ajuste_manual')),
    estado varchar(8) NOT NULL DEFAULT 'activo'
        CHECK (estado IN ('activo', 'agotado', 'vencido', 'en_merma')),
    creado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    modificado datetime NULL DEFAULT NULL
);
CREATE INDEX fk_lotes_productos_idx ON lotes (productos_id);
CREATE INDEX fk_lotes_detalle_factura_idx ON lotes (detalle_factura_proveedor_id);
CREATE INDEX idx_fecha_caducidad ON lotes (fecha_caducidad);
CREATE INDEX lotes_idx_estado ON lotes (estado);
CREATE INDEX lotes_idx_origen ON lotes (origen);
CREATE INDEX idx_productos_estado ON lotes (productos_id, estado);

CREATE TABLE alertas (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    tipo_alerta varchar(8) NOT NULL CHECK (tipo_alerta IN ('verde', 'amarilla', 'roja')),
    mensaje varchar(255) NOT NULL,
    fecha_generada datetime NULL DEFAULT CURRENT_TIMESTAMP,
    estado varchar(20) NULL DEFAULT 'activa',
    productos_id integer NULL DEFAULT NULL REFERENCES productos (id),
    factura_proveedor_id integer NULL DEFAULT NULL
        REFERENCES factura_proveedor (id) ON DELETE CASCADE ON UPDATE CASCADE
);
CREATE INDEX fk_alertas_productos1_idx ON alertas (productos_id);
CREATE INDEX idx_tipo_alerta ON alertas (tipo_alerta);
CREATE INDEX alertas_idx_estado ON alertas (estado);
CREATE INDEX idx_fecha ON alertas (fecha_generada);
CREATE INDEX fk_alertas_factura_proveedor_idx ON alertas (factura_proveedor_id);
CREATE INDEX idx_estado_tipo ON alertas (estado, tipo_alerta);

CREATE TABLE historial_merma (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    producto_id integer NOT NULL
        REFERENCES productos (id) ON DELETE CASCADE ON UPDATE CASCADE,
    cantidad_merma NUMERIC(10, 3) NOT NULL,
    motivo_merma text NOT NULL,
    fecha_merma datetime NOT NULL,
    activo bool NOT NULL DEFAULT 1,
    creado datetime NULL DEFAULT CURRENT_TIMESTAMP,
    modificado datetime NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX fk_historial_merma_producto_idx ON historial_merma (producto_id);
CREATE INDEX idx_fecha_merma ON historial_merma (fecha_merma);
CREATE INDEX idx_activo ON historial_merma (activo);
CREATE INDEX idx_producto_activo ON historial_merma (producto_id, activo);

CREATE TABLE movimientos_inventario (
    id integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    tipo_movimiento varchar(7) NOT NULL CHECK (tipo_movimiento IN ('entrada', 'salida')),
    cantidad integer NOT NULL,
    fecha datetime NOT NULL DEFAULT CURRENT_TIMESTAMP,
    productos_id integer NOT NULL REFERENCES productos (id),
    origen varchar(50) NULL DEFAULT NULL,
    referencia_id integer NULL DEFAULT NULL,
    tipo_referencia varchar(50) NULL DEFAULT NULL
);
CREATE INDEX fk_movimientos_inventario_productos1_idx ON movimientos_inventario (productos_id);
CREATE INDEX movimientos_inventario_idx_origen
    ON movimientos_inventario (origen, tipo_referencia, referencia_id);
