//! Event consumers of the competition service.

use chrono::Utc;
use diesel::prelude::*;
use hub_bus::{Events, Store, Subscription};
use hub_events::{CompetitionOpened, Envelope, Event, ReferralSubmitted};
use hub_platform::db::{DbConnection, DbError};
use uuid::Uuid;

use crate::{
    domain,
    store::{self, CompetitionRow, schema::*},
};

pub fn subscription() -> Subscription {
    Subscription::new(crate::NAME, "referrals", &[ReferralSubmitted::TYPE])
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    Ok(())
}

/// A submitted referral whose route is a mini-competition opens one, inviting every provider
/// admitted to the referral's lot.
fn handle(conn: &mut DbConnection, env: &Envelope, events: &mut Events) -> Result<(), DbError> {
    let e: ReferralSubmitted = env.decode().map_err(anyhow::Error::from)?;
    if !matches!(
        e.route.as_str(),
        "mini_competition" | "preselected_mini_competition"
    ) {
        return Ok(());
    }
    let Some(lot) = store::lot(conn, &e.lot_id.to_string())? else {
        tracing::warn!(referral_id = %e.referral_id, lot_id = %e.lot_id, "referral names an unknown lot; no competition opened");
        return Ok(());
    };
    let Some(framework) =
        store::framework(conn, &lot.framework_id)?.filter(|f| f.id == e.framework_id.to_string())
    else {
        tracing::warn!(referral_id = %e.referral_id, "the lot is not in the referral's framework; no competition opened");
        return Ok(());
    };
    let invited: Vec<String> = store::admitted(conn, &lot.id)?
        .into_iter()
        .map(|a| a.provider_id)
        .collect();
    let now = Utc::now();
    let deadline = domain::deadline(now, e.urgency);
    let row = CompetitionRow {
        id: Uuid::now_v7().to_string(),
        referral_id: e.referral_id.to_string(),
        referral_version: e.version as i32,
        council: e.council.clone(),
        partnership: framework.partnership.clone(),
        framework_id: framework.id.clone(),
        lot_id: lot.id.clone(),
        status: "open".into(),
        urgency: serde_json::to_value(e.urgency)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        deadline: deadline.naive_utc(),
        awarded_provider: None,
        awarded_bid: None,
        awarded_by: None,
        created_at: now.naive_utc(),
    };
    diesel::insert_into(competitions::table)
        .values(&row)
        .execute(conn)?;
    for p in &invited {
        diesel::insert_into(competition_invitations::table)
            .values((
                competition_invitations::competition_id.eq(&row.id),
                competition_invitations::provider_id.eq(p),
            ))
            .execute(conn)?;
    }
    events.emit(
        &framework.partnership,
        &CompetitionOpened {
            competition_id: Uuid::parse_str(&row.id).map_err(anyhow::Error::from)?,
            referral_id: e.referral_id,
            referral_version: e.version,
            council: e.council.clone(),
            framework_id: e.framework_id,
            lot_id: e.lot_id,
            lot_name: lot.name.clone(),
            urgency: e.urgency,
            deadline,
            invited,
            summary: domain::summary(&e),
            referral_path: format!("/v1/referrals/{}", e.referral_id),
        },
    );
    Ok(())
}
