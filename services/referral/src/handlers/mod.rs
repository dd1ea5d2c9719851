//! Event consumers of the referral service.

use chrono::Utc;
use diesel::prelude::*;
use hub_bus::{Events, Store, Subscription};
use hub_events::{CompetitionAwarded, CompetitionOpened, Envelope, Event, PlacementStarted};
use hub_platform::db::{DbConnection, DbError};

use crate::{
    domain::Status,
    store::{self, schema::*},
};

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "lifecycle",
        &[
            CompetitionOpened::TYPE,
            CompetitionAwarded::TYPE,
            PlacementStarted::TYPE,
        ],
    )
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    Ok(())
}

fn handle(conn: &mut DbConnection, env: &Envelope, _events: &mut Events) -> Result<(), DbError> {
    let now = Utc::now().naive_utc();
    if env.is::<CompetitionOpened>() {
        let e: CompetitionOpened = env.decode().map_err(anyhow::Error::from)?;
        let id = e.referral_id.to_string();
        for provider in &e.invited {
            diesel::insert_into(referral_invitations::table)
                .values((
                    referral_invitations::referral_id.eq(&id),
                    referral_invitations::provider_id.eq(provider),
                    referral_invitations::competition_id.eq(e.competition_id.to_string()),
                    referral_invitations::version.eq(e.referral_version as i32),
                    referral_invitations::invited_at.eq(now),
                ))
                .execute(conn)?;
        }
        store::set_status(conn, &id, Status::InCompetition.code(), now)?;
    } else if env.is::<CompetitionAwarded>() {
        let e: CompetitionAwarded = env.decode().map_err(anyhow::Error::from)?;
        diesel::update(referrals::table.find(e.referral_id.to_string()))
            .set((
                referrals::status.eq(Status::Awarded.code()),
                referrals::awarded_provider.eq(Some(&e.provider_id)),
                referrals::updated_at.eq(now),
            ))
            .execute(conn)?;
    } else if env.is::<PlacementStarted>() {
        let e: PlacementStarted = env.decode().map_err(anyhow::Error::from)?;
        store::set_status(conn, &e.referral_id.to_string(), Status::Placed.code(), now)?;
    }
    Ok(())
}
