//! The replica of the competition service's frameworks.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use hub_platform::{
    Json,
    db::{DbConnection, DbError},
};

use super::rows::KnownFrameworkRow;
use crate::domain::KnownFramework;
use crate::ids::FrameworkId;
use crate::schema::*;

/// The replica of framework `id`, if the competition service has published it.
pub fn known_framework(
    conn: &mut DbConnection,
    id: FrameworkId,
) -> Result<Option<KnownFramework>, DbError> {
    Ok(known_frameworks::table
        .find(id)
        .select(KnownFrameworkRow::as_select())
        .first(conn)
        .optional()?
        .map(|r| KnownFramework {
            partnership: r.partnership,
            purchasing_bodies: r.purchasing_bodies.0,
            lot_ids: r.lot_ids.0,
        }))
}

/// Keeps framework `id` as published at `as_of`, unless the replica already holds a newer
/// publication of it.
pub fn keep_framework(
    conn: &mut DbConnection,
    id: FrameworkId,
    framework: KnownFramework,
    as_of: NaiveDateTime,
) -> Result<(), DbError> {
    let row = KnownFrameworkRow {
        id,
        partnership: framework.partnership,
        purchasing_bodies: Json(framework.purchasing_bodies),
        lot_ids: Json(framework.lot_ids),
        as_of,
    };
    let held: Option<NaiveDateTime> = known_frameworks::table
        .find(id)
        .select(known_frameworks::as_of)
        .first(conn)
        .optional()?;
    match held {
        None => {
            diesel::insert_into(known_frameworks::table)
                .values(&row)
                .execute(conn)?;
        }
        Some(at) if at <= row.as_of => {
            diesel::update(known_frameworks::table.find(id))
                .set(&row)
                .execute(conn)?;
        }
        Some(_) => {
            tracing::info!(framework_id = %id, "older framework publication; replica unchanged")
        }
    }
    Ok(())
}
