//! What the referral service keeps of a framework (`competition.framework_published`).

use hub_events::{FrameworkLot, FrameworkPublished};
use hub_platform::db::{DbConnection, DbError};

use crate::{domain::Framework, store};

/// What the referral service keeps of framework `fw`: published whenever it is set up or its
/// purchasing bodies or lots change.
pub fn framework_published(
    conn: &mut DbConnection,
    fw: &Framework,
) -> Result<FrameworkPublished, DbError> {
    Ok(FrameworkPublished {
        framework_id: fw.id.into(),
        partnership: fw.partnership.clone(),
        lead_commissioner: fw.lead_commissioner.clone(),
        purchasing_bodies: fw.purchasing_bodies(),
        lots: store::lots_of(conn, &fw.id)?
            .iter()
            .map(|l| {
                Ok(FrameworkLot {
                    lot_id: l.id.into(),
                    name: l.name.clone(),
                    placement_type: l.placement_type.clone(),
                })
            })
            .collect::<Result<_, DbError>>()?,
        start_date: fw.start_date,
        end_date: fw.end_date,
    })
}
