//! DDL that registers the lake's tables in query engines.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::error::CatalogError;
use crate::schema::{ColumnType, Partitioning, TableDef};

/// A query engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Engine {
    /// Spark SQL (Zeppelin, Databricks, EMR): Delta tables, plus plain Parquet tables.
    Spark,
    /// Amazon Athena: Delta tables, plus Parquet tables with partition projection.
    Athena,
    /// DuckDB: views over `read_parquet(..., hive_partitioning = true)`.
    DuckDb,
    /// Trino: the Delta Lake connector's `register_table`.
    Trino,
}

impl FromStr for Engine {
    type Err = CatalogError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "spark" => Ok(Engine::Spark),
            "athena" => Ok(Engine::Athena),
            "duckdb" => Ok(Engine::DuckDb),
            "trino" => Ok(Engine::Trino),
            other => {
                Err(CatalogError::Row(format!("unknown engine `{other}` (spark, athena, duckdb, trino)")))
            }
        }
    }
}

fn sql_type(engine: Engine, ty: ColumnType) -> &'static str {
    match (engine, ty) {
        (_, ColumnType::Timestamp) => "TIMESTAMP",
        (_, ColumnType::Int16) => "SMALLINT",
        (_, ColumnType::Int32) => "INT",
        (_, ColumnType::Int64) => "BIGINT",
        (_, ColumnType::Bool) => "BOOLEAN",
        (_, ColumnType::Utf8 | ColumnType::DictUtf8) => "STRING",
        (_, ColumnType::Binary) => "BINARY",
        (_, ColumnType::Float64) => "DOUBLE",
    }
}

fn columns(engine: Engine, def: &TableDef) -> String {
    def.columns
        .iter()
        .map(|c| format!("  `{}` {}", c.name, sql_type(engine, c.ty)))
        .collect::<Vec<_>>()
        .join(",\n")
}

fn file_glob(def: &TableDef) -> &'static str {
    match def.partitioning {
        Partitioning::Day => "dt=*/*.parquet",
        Partitioning::DayHour => "dt=*/hour=*/*.parquet",
    }
}

/// DDL for every table in `tables`, for a lake at `lake` (`s3://bucket/prefix` or a path).
#[must_use]
pub fn ddl(engine: Engine, lake: &str, tables: &[TableDef]) -> String {
    let lake = lake.trim_end_matches('/');
    let mut out = String::new();
    for def in tables {
        let loc = format!("{lake}/{}", def.path);
        let name = def.name;
        let hourly = def.partitioning == Partitioning::DayHour;
        let _ = match engine {
            Engine::Spark => writeln!(
                out,
                "-- {doc}\nCREATE TABLE IF NOT EXISTS {name} USING DELTA LOCATION '{loc}';\n\n\
                 -- the same files as a plain Parquet table (no Delta support needed)\n\
                 CREATE TABLE IF NOT EXISTS {name}_parquet (\n{cols},\n  `dt` DATE{hour_col}\n) USING PARQUET\n\
                 PARTITIONED BY (dt{hour_part}) LOCATION '{loc}';\nMSCK REPAIR TABLE {name}_parquet;\n",
                doc = def.doc,
                cols = columns(engine, def),
                hour_col = if hourly { ",\n  `hour` INT" } else { "" },
                hour_part = if hourly { ", hour" } else { "" },
            ),
            Engine::Athena => {
                let template = if hourly { format!("{loc}/dt=${{dt}}/hour=${{hour}}") } else { format!("{loc}/dt=${{dt}}") };
                writeln!(
                    out,
                    "-- {doc}\nCREATE EXTERNAL TABLE IF NOT EXISTS {name}\nLOCATION '{loc}'\n\
                     TBLPROPERTIES ('table_type' = 'DELTA');\n\n\
                     -- the same files as a Parquet table; partition projection, no MSCK REPAIR needed\n\
                     CREATE EXTERNAL TABLE IF NOT EXISTS {name}_parquet (\n{cols}\n)\n\
                     PARTITIONED BY (`dt` STRING{hour_col})\nSTORED AS PARQUET\nLOCATION '{loc}/'\nTBLPROPERTIES (\n\
                     \x20 'projection.enabled' = 'true',\n\
                     \x20 'projection.dt.type' = 'date',\n\
                     \x20 'projection.dt.format' = 'yyyy-MM-dd',\n\
                     \x20 'projection.dt.range' = '2000-01-01,NOW',\n{hour_props}\
                     \x20 'storage.location.template' = '{template}'\n);\n",
                    doc = def.doc,
                    cols = columns(engine, def).replace("STRING", "string"),
                    hour_col = if hourly { ", `hour` INT" } else { "" },
                    hour_props = if hourly {
                        "  'projection.hour.type' = 'integer',\n  'projection.hour.range' = '0,23',\n  'projection.hour.digits' = '2',\n"
                    } else {
                        ""
                    },
                )
            }
            Engine::DuckDb => writeln!(
                out,
                "-- {doc}\nCREATE OR REPLACE VIEW {name} AS\nSELECT * FROM read_parquet('{loc}/{glob}',\n\
                 \x20 hive_partitioning = true, hive_types = {{'dt': DATE{hour_type}}});\n",
                doc = def.doc,
                glob = file_glob(def),
                hour_type = if hourly { ", 'hour': INTEGER" } else { "" },
            ),
            Engine::Trino => writeln!(
                out,
                "-- {doc}\nCALL delta.system.register_table(schema_name => 'loglake', table_name => '{name}', \
                 table_location => '{loc}');\n",
                doc = def.doc,
            ),
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{ACCESS_LOGS, TABLES};

    #[test]
    fn every_engine_names_every_table_and_location() {
        for engine in [Engine::Spark, Engine::Athena, Engine::DuckDb, Engine::Trino] {
            let text = ddl(engine, "s3://bkt/lake/", TABLES);
            for t in TABLES {
                assert!(text.contains(&format!("s3://bkt/lake/{}", t.path)), "{engine:?} {}", t.path);
                assert!(text.contains(t.name), "{engine:?}");
            }
        }
    }

    #[test]
    fn athena_projects_zero_padded_hours() {
        let text = ddl(Engine::Athena, "s3://bkt/lake", &[ACCESS_LOGS]);
        assert!(text.contains("'projection.hour.digits' = '2'"));
        assert!(text.contains(
            "'storage.location.template' = 's3://bkt/lake/curated/access_logs/dt=${dt}/hour=${hour}'"
        ));
        assert!(text.contains("`ts` TIMESTAMP"));
        assert!("SPARK".parse::<Engine>().is_ok() && "oracle".parse::<Engine>().is_err());
    }
}
