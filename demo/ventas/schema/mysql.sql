-- Schema of the shop's tables that forneria-ops reads and writes (MySQL / MariaDB).
--
-- Written for this project from the table descriptions in DOMAIN.md and the column types of the
-- shop's production export: same table, column and index names, same types, nullability and
-- defaults, so the engine meets here exactly what it meets in production. Only the tables the
-- engine touches are here (plus the parents their foreign keys need).
--
-- Runs as a script: drops the tables first (children before parents), then creates them.

SET FOREIGN_KEY_CHECKS = 0;

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

SET FOREIGN_KEY_CHECKS = 1;

CREATE TABLE categorias (
    id INT NOT NULL AUTO_INCREMENT,
    nombre VARCHAR(100) NULL DEFAULT NULL,
    descripcion VARCHAR(200) NULL DEFAULT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE nutricional (
    id INT NOT NULL AUTO_INCREMENT,
    calorias INT NULL DEFAULT NULL,
    proteinas DECIMAL(5, 2) NULL DEFAULT NULL,
    carbohidratos DECIMAL(5, 2) NULL DEFAULT NULL,
    azucares DECIMAL(10, 2) NULL DEFAULT NULL,
    sodio DECIMAL(10, 2) NULL DEFAULT NULL,
    grasas DECIMAL(5, 2) NULL DEFAULT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE proveedor (
    id INT NOT NULL AUTO_INCREMENT,
    nombre VARCHAR(150) NOT NULL,
    rut VARCHAR(12) NULL DEFAULT NULL,
    contacto VARCHAR(100) NULL DEFAULT NULL,
    telefono VARCHAR(20) NULL DEFAULT NULL,
    email VARCHAR(100) NULL DEFAULT NULL,
    direccion VARCHAR(200) NULL DEFAULT NULL,
    ciudad VARCHAR(100) NULL DEFAULT NULL,
    region VARCHAR(100) NULL DEFAULT NULL,
    estado ENUM('activo', 'inactivo') NOT NULL DEFAULT 'activo',
    notas TEXT NULL,
    creado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    modificado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    eliminado TIMESTAMP NULL DEFAULT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY rut_UNIQUE (rut),
    KEY idx_estado (estado),
    KEY idx_nombre (nombre)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE productos (
    id INT NOT NULL AUTO_INCREMENT,
    nombre VARCHAR(100) NOT NULL,
    descripcion VARCHAR(300) NULL DEFAULT NULL,
    marca VARCHAR(100) NULL DEFAULT NULL,
    precio DECIMAL(10, 2) NOT NULL,
    caducidad DATE NULL DEFAULT NULL,
    elaboracion DATE NULL DEFAULT NULL,
    tipo VARCHAR(100) NULL DEFAULT NULL,
    stock_actual INT NULL DEFAULT NULL,
    stock_minimo INT NULL DEFAULT NULL,
    stock_maximo INT NULL DEFAULT NULL,
    presentacion VARCHAR(100) NULL DEFAULT NULL,
    formato VARCHAR(100) NULL DEFAULT NULL,
    creado TIMESTAMP NULL DEFAULT NULL,
    modificado TIMESTAMP NULL DEFAULT NULL,
    eliminado TIMESTAMP NULL DEFAULT NULL,
    categorias_id INT NOT NULL,
    nutricional_id INT NOT NULL,
    cantidad DECIMAL(10, 3) NOT NULL DEFAULT 0.000,
    estado_merma VARCHAR(20) NOT NULL DEFAULT 'activo',
    motivo_merma TEXT NULL,
    fecha_merma DATETIME NULL DEFAULT NULL,
    cantidad_merma INT NULL DEFAULT 0,
    unidad_stock ENUM('unidad', 'kg', 'g', 'l', 'ml') NOT NULL DEFAULT 'unidad',
    unidad_venta ENUM('unidad', 'kg', 'g', 'l', 'ml') NOT NULL DEFAULT 'unidad',
    precio_por_unidad_venta DECIMAL(10, 2) NOT NULL,
    PRIMARY KEY (id),
    KEY fk_productos_categorias1_idx (categorias_id),
    KEY fk_productos_nutricional1_idx (nutricional_id),
    CONSTRAINT fk_productos_categorias1 FOREIGN KEY (categorias_id) REFERENCES categorias (id),
    CONSTRAINT fk_productos_nutricional1 FOREIGN KEY (nutricional_id) REFERENCES nutricional (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE factura_proveedor (
    id INT NOT NULL AUTO_INCREMENT,
    numero_factura VARCHAR(50) NOT NULL,
    fecha_factura DATE NOT NULL,
    fecha_vencimiento DATE NULL DEFAULT NULL,
    fecha_recepcion DATE NULL DEFAULT NULL,
    subtotal_sin_iva DECIMAL(10, 2) NULL DEFAULT NULL,
    descuento DECIMAL(10, 2) NOT NULL DEFAULT 0.00,
    total_iva DECIMAL(10, 2) NULL DEFAULT NULL,
    total_con_iva DECIMAL(10, 2) NOT NULL DEFAULT 0.00,
    estado_pago ENUM('pendiente', 'pagado', 'parcial', 'atrasado', 'cancelado')
        NOT NULL DEFAULT 'pendiente',
    observaciones TEXT NULL,
    creado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    modificado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    eliminado TIMESTAMP NULL DEFAULT NULL,
    proveedor_id INT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY numero_factura_UNIQUE (numero_factura),
    KEY fk_factura_proveedor_proveedor1_idx (proveedor_id),
    KEY idx_estado_pago (estado_pago),
    KEY idx_fecha_factura (fecha_factura),
    CONSTRAINT fk_factura_proveedor_proveedor1 FOREIGN KEY (proveedor_id)
        REFERENCES proveedor (id) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE detalle_factura_proveedor (
    id INT NOT NULL AUTO_INCREMENT,
    cantidad INT NOT NULL,
    precio_unitario DECIMAL(10, 2) NOT NULL,
    descuento_pct DECIMAL(5, 2) NULL DEFAULT 0.00,
    subtotal DECIMAL(10, 2) NOT NULL DEFAULT 0.00,
    fecha_vencimiento_producto DATE NULL DEFAULT NULL,
    lote VARCHAR(50) NULL DEFAULT NULL,
    observaciones VARCHAR(300) NULL DEFAULT NULL,
    factura_proveedor_id INT NOT NULL,
    productos_id INT NOT NULL,
    PRIMARY KEY (id),
    KEY fk_detalle_factura_proveedor_factura_proveedor1_idx (factura_proveedor_id),
    KEY fk_detalle_factura_proveedor_productos1_idx (productos_id),
    CONSTRAINT fk_detalle_factura_proveedor_factura_proveedor1 FOREIGN KEY (factura_proveedor_id)
        REFERENCES factura_proveedor (id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT fk_detalle_factura_proveedor_productos1 FOREIGN KEY (productos_id)
        REFERENCES productos (id) ON DELETE RESTRICT ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE lotes (
    id INT NOT NULL AUTO_INCREMENT,
    productos_id INT NOT NULL,
    detalle_factura_proveedor_id INT NULL DEFAULT NULL,
    numero_lote VARCHAR(50) NULL DEFAULT NULL,
    cantidad DECIMAL(10, 3) NOT NULL DEFAULT 0.000,
    cantidad_inicial DECIMAL(10, 3) NOT NULL,
    fecha_elaboracion DATE NULL DEFAULT NULL,
    fecha_caducidad DATE NOT NULL,
    fecha_recepcion DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
    origen ENUM('compra', 'produccion_propia', 'ajuste_manual') NOT NULL
        DEFAULT 'produccion_propia',
    estado ENUM('activo', 'agotado', 'vencido', 'en_merma') NOT NULL DEFAULT 'activo',
    creado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    modificado TIMESTAMP NULL DEFAULT NULL ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    KEY fk_lotes_productos_idx (productos_id),
    KEY fk_lotes_detalle_factura_idx (detalle_factura_proveedor_id),
    KEY idx_fecha_caducidad (fecha_caducidad),
    KEY idx_estado (estado),
    KEY idx_origen (origen),
    KEY idx_productos_estado (productos_id, estado),
    CONSTRAINT fk_lotes_detalle_factura FOREIGN KEY (detalle_factura_proveedor_id)
        REFERENCES detalle_factura_proveedor (id) ON DELETE SET NULL,
    CONSTRAINT fk_lotes_productos FOREIGN KEY (productos_id)
        REFERENCES productos (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE alertas (
    id INT NOT NULL AUTO_INCREMENT,
    tipo_alerta ENUM('verde', 'amarilla', 'roja') NOT NULL,
    mensaje VARCHAR(255) NOT NULL,
    fecha_generada TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    estado VARCHAR(20) NULL DEFAULT 'activa',
    productos_id INT NULL DEFAULT NULL,
    factura_proveedor_id INT NULL DEFAULT NULL,
    PRIMARY KEY (id),
    KEY fk_alertas_productos1_idx (productos_id),
    KEY idx_tipo_alerta (tipo_alerta),
    KEY idx_estado (estado),
    KEY idx_fecha (fecha_generada),
    KEY fk_alertas_factura_proveedor_idx (factura_proveedor_id),
    KEY idx_estado_tipo (estado, tipo_alerta),
    CONSTRAINT fk_alertas_factura_proveedor FOREIGN KEY (factura_proveedor_id)
        REFERENCES factura_proveedor (id) ON DELETE CASCADE ON UPDATE CASCADE,
    CONSTRAINT fk_alertas_productos1 FOREIGN KEY (productos_id) REFERENCES productos (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE historial_merma (
    id INT NOT NULL AUTO_INCREMENT,
    producto_id INT NOT NULL,
    cantidad_merma DECIMAL(10, 3) NOT NULL,
    motivo_merma TEXT NOT NULL,
    fecha_merma DATETIME NOT NULL,
    activo TINYINT(1) NOT NULL DEFAULT 1,
    creado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP,
    modificado TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    KEY fk_historial_merma_producto_idx (producto_id),
    KEY idx_fecha_merma (fecha_merma),
    KEY idx_activo (activo),
    KEY idx_producto_activo (producto_id, activo),
    CONSTRAINT fk_historial_merma_producto FOREIGN KEY (producto_id)
        REFERENCES productos (id) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;

CREATE TABLE movimientos_inventario (
    id INT NOT NULL AUTO_INCREMENT,
    tipo_movimiento ENUM('entrada', 'salida') NOT NULL,
    cantidad INT NOT NULL,
    fecha TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,
    productos_id INT NOT NULL,
    origen VARCHAR(50) NULL DEFAULT NULL,
    referencia_id INT NULL DEFAULT NULL,
    tipo_referencia VARCHAR(50) NULL DEFAULT NULL,
    PRIMARY KEY (id),
    KEY fk_movimientos_inventario_productos1_idx (productos_id),
    KEY idx_origen (origen, tipo_referencia, referencia_id),
    CONSTRAINT fk_movimientos_inventario_productos1 FOREIGN KEY (productos_id)
        REFERENCES productos (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_spanish_ci;
