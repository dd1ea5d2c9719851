//! Event consumers of the competition service, and the opening and closing of competitions
//! that both the consumers and the API do.

pub mod offered_beds;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use hub_bus::{Events, Store, Subscription};
use hub_events::{
    CompetitionCloseReason, CompetitionClosed, CompetitionOpened, Envelope, Event, FrameworkLot,
    FrameworkPublished, ReferralReturnReason, ReferralReturned, ReferralSubmitted,
    ReferralWithdrawn, Urgency,
};
use hub_platform::db::{DbConnection, DbError};
use uuid::Uuid;

use crate::{
    api::uuid,
    domain::{
        self, STANDARD,
        calloff::Status,
        preselection::{Candidate, Preselection},
    },
    schema::*,
    store::{self, CompetitionRow, FrameworkRow, LotRow, to_json},
};

/// The reason a competition of a withdrawn referral is closed with (its `closed_reason`).
pub const REFERRAL_WITHDRAWN: &str = "referral_withdrawn";

pub fn subscription() -> Subscription {
    Subscription::new(
        crate::NAME,
        "referrals",
        &[ReferralSubmitted::TYPE, ReferralWithdrawn::TYPE],
    )
}

pub async fn subscribe(store: &Store, transport: &dyn hub_bus::Transport) -> anyhow::Result<()> {
    let sub = subscription();
    transport
        .subscribe(sub.clone(), store.handler(&sub, handle))
        .await?;
    offered_beds::subscribe(store, transport).await?;
    Ok(())
}

fn handle(conn: &mut DbConnection, env: &Envelope, events: &mut Events) -> Result<(), DbError> {
    match env.event_type.as_str() {
        ReferralSubmitted::TYPE => submitted(
            conn,
            &env.partnership,
            env.decode().map_err(anyhow::Error::from)?,
            events,
        ),
        ReferralWithdrawn::TYPE => {
            withdrawn(conn, env.decode().map_err(anyhow::Error::from)?, events)
        }
        _ => Ok(()),
    }
}

/// A submitted referral routed to this framework: a mini-competition opens at once inviting
/// every provider admitted to the lot; a preselected one waits as a draft for the
/// commissioner to confirm who is invited; a direct award waits for the commissioner to
/// name the provider.
///
/// A referral that cannot be routed (an unknown framework or lot, a lot of another framework,
/// a framework of another partnership, a council that is not one of its purchasing bodies) is
/// put back to its council with the reason as a code (`competition.referral_returned`), never
/// dropped silently. The referral service refuses most of these itself from its replica of
/// the frameworks (`competition.framework_published`); this is what it could not know yet.
fn submitted(
    conn: &mut DbConnection,
    partnership: &str,
    e: ReferralSubmitted,
    events: &mut Events,
) -> Result<(), DbError> {
    let status = match e.route.as_str() {
        "mini_competition" => Status::Open,
        "preselected_mini_competition" => Status::Draft,
        "direct_award" => Status::AwaitingDirectAward,
        _ => return Ok(()),
    };
    let found = routable(conn, partnership, &e)?;
    let (framework, lot) = match found {
        Ok(found) => found,
        Err(reason) => {
            tracing::warn!(referral_id = %e.referral_id, council = %e.council, reason = reason.code(),
                "referral cannot be routed; returned to its council");
            events.emit(
                partnership,
                &ReferralReturned {
                    referral_id: e.referral_id,
                    referral_version: e.version,
                    council: e.council.clone(),
                    reason,
                },
            );
            return Ok(());
        }
    };
    if store::competitions_of_referral(conn, &e.referral_id.to_string())?
        .iter()
        .any(|c| c.status().is_live())
    {
        tracing::warn!(referral_id = %e.referral_id, "the referral already has a live competition");
        return Ok(());
    }
    let now = Utc::now();
    let mut row = CompetitionRow {
        id: Uuid::now_v7().to_string(),
        referral_id: e.referral_id.to_string(),
        referral_version: e.version as i32,
        council: e.council.clone(),
        partnership: framework.partnership.clone(),
        framework_id: framework.id.clone(),
        lot_id: lot.id.clone(),
        status: Status::Draft.code().into(),
        urgency: urgency_code(e.urgency),
        deadline: domain::deadline(now, e.urgency).naive_utc(),
        awarded_provider: None,
        awarded_bid: None,
        awarded_by: None,
        created_at: now.naive_utc(),
        route: e.route.clone(),
        need_level: STANDARD.into(),
        criteria: to_json(&lot.criteria()),
        requirement: Some(to_json(&e)),
        preselection: (status == Status::Draft).then(|| to_json(&Preselection::for_referral(&e))),
        left_out: None,
        opened_at: None,
        opened_by: None,
        closed_reason: None,
        direct: false,
        awarded_rate_pence: None,
        awarded_start_date: None,
        awarded_at: None,
        review_date: None,
        reopened_from: None,
        bidding_closed_at: None,
        bidding_closed_reason: None,
    };
    if status == Status::AwaitingDirectAward {
        row.status = status.code().into();
    }
    diesel::insert_into(competitions::table)
        .values(&row)
        .execute(conn)?;
    if status == Status::Open {
        let invited = store::admitted_providers(conn, &lot.id)?;
        open(
            conn,
            events,
            &mut row,
            &lot,
            Opening {
                invited,
                deadline: None,
                actor: &e.submitted_by,
                org: &e.council,
                action: "opened",
                reason: Some("mini-competition of every provider admitted to the lot"),
            },
        )?;
    }
    Ok(())
}

/// The framework and lot a submitted referral names, or why it cannot be routed to them.
fn routable(
    conn: &mut DbConnection,
    partnership: &str,
    e: &ReferralSubmitted,
) -> Result<Result<(FrameworkRow, LotRow), ReferralReturnReason>, DbError> {
    let Some(framework) = store::framework(conn, &e.framework_id.to_string())? else {
        return Ok(Err(ReferralReturnReason::UnknownFramework));
    };
    let Some(lot) = store::lot(conn, &e.lot_id.to_string())? else {
        return Ok(Err(ReferralReturnReason::UnknownLot));
    };
    Ok(if lot.framework_id != framework.id {
        Err(ReferralReturnReason::LotNotInFramework)
    } else if framework.partnership != partnership {
        Err(ReferralReturnReason::OtherPartnership)
    } else if !framework.may_call_off(&e.council) {
        Err(ReferralReturnReason::NotAPurchasingBody)
    } else {
        Ok((framework, lot))
    })
}

/// What the referral service keeps of framework `fw`: published whenever it is set up or its
/// purchasing bodies or lots change.
pub fn framework_published(
    conn: &mut DbConnection,
    fw: &FrameworkRow,
) -> Result<FrameworkPublished, DbError> {
    Ok(FrameworkPublished {
        framework_id: uuid(&fw.id)?,
        partnership: fw.partnership.clone(),
        lead_commissioner: fw.lead_commissioner.clone(),
        purchasing_bodies: fw.purchasing_bodies(),
        lots: store::lots_of(conn, &fw.id)?
            .iter()
            .map(|l| {
                Ok(FrameworkLot {
                    lot_id: uuid(&l.id)?,
                    name: l.name.clone(),
                    placement_type: l.placement_type.clone(),
                })
            })
            .collect::<Result<_, DbError>>()?,
        start_date: fw.start_date,
        end_date: fw.end_date,
    })
}

/// A withdrawn referral closes its competitions that are still looking for a provider.
fn withdrawn(
    conn: &mut DbConnection,
    e: ReferralWithdrawn,
    events: &mut Events,
) -> Result<(), DbError> {
    for c in store::competitions_of_referral(conn, &e.referral_id.to_string())? {
        if c.council != e.council || !c.status().is_live() {
            continue;
        }
        close(
            conn,
            events,
            &c,
            Closing {
                reason: CompetitionCloseReason::ReferralWithdrawn,
                detail: None,
                provider_message: None,
                actor: "referral-service",
                org: &e.council,
            },
        )?;
    }
    Ok(())
}

pub fn urgency_code(u: Urgency) -> String {
    serde_json::to_value(u)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub fn urgency_of(c: &CompetitionRow) -> Urgency {
    serde_json::from_value(serde_json::Value::String(c.urgency.clone())).unwrap_or(Urgency::Planned)
}

/// How a competition is opened (or reopened).
pub struct Opening<'a> {
    pub invited: Vec<String>,
    /// Default: by urgency from now.
    pub deadline: Option<DateTime<Utc>>,
    pub actor: &'a str,
    pub org: &'a str,
    /// What the log records: `opened`, `reopened`.
    pub action: &'a str,
    pub reason: Option<&'a str>,
}

/// Opens `row` (already stored): invites `invited`, sets the deadline, tells the providers
/// (competition.opened) and logs who did it.
pub fn open(
    conn: &mut DbConnection,
    events: &mut Events,
    row: &mut CompetitionRow,
    lot: &LotRow,
    o: Opening<'_>,
) -> Result<(), DbError> {
    let now = Utc::now();
    let urgency = urgency_of(row);
    let deadline = o.deadline.unwrap_or_else(|| domain::deadline(now, urgency));
    row.status = Status::Open.code().into();
    row.deadline = deadline.naive_utc();
    row.opened_at = Some(now.naive_utc());
    row.opened_by = Some(o.actor.to_owned());
    row.closed_reason = None;
    row.bidding_closed_at = None;
    row.bidding_closed_reason = None;
    diesel::update(competitions::table.find(&row.id))
        .set((
            competitions::status.eq(&row.status),
            competitions::bidding_closed_at.eq(None::<chrono::NaiveDateTime>),
            competitions::bidding_closed_reason.eq(None::<String>),
            competitions::deadline.eq(row.deadline),
            competitions::opened_at.eq(row.opened_at),
            competitions::opened_by.eq(&row.opened_by),
            competitions::closed_reason.eq(None::<String>),
            competitions::left_out.eq(&row.left_out),
            competitions::route.eq(&row.route),
        ))
        .execute(conn)?;
    let already = store::invited(conn, &row.id)?;
    let new: Vec<String> = o
        .invited
        .iter()
        .filter(|p| !already.contains(p))
        .cloned()
        .collect();
    store::invite(conn, &row.id, &new)?;
    let requirement = row.requirement()?;
    events.emit(
        &row.partnership,
        &CompetitionOpened {
            competition_id: uuid(&row.id)?,
            referral_id: uuid(&row.referral_id)?,
            referral_version: row.referral_version.max(0) as u32,
            council: row.council.clone(),
            framework_id: uuid(&row.framework_id)?,
            lot_id: uuid(&row.lot_id)?,
            lot_name: lot.name.clone(),
            urgency,
            deadline,
            invited: o.invited.clone(),
            summary: requirement
                .as_ref()
                .map(domain::summary)
                .unwrap_or_else(|| format!("{} placement", lot.placement_type.replace('_', " "))),
            referral_path: format!("/v1/referrals/{}", row.referral_id),
        },
    );
    store::log(
        conn,
        &row.id,
        o.action,
        o.reason,
        serde_json::json!({ "invited": o.invited, "deadline": deadline }),
        o.actor,
        o.org,
    )?;
    Ok(())
}

/// Why and how a competition closes without an award: the code providers are told, the
/// commissioner's own words (kept in the history only) and any words written for providers.
pub struct Closing<'a> {
    pub reason: CompetitionCloseReason,
    pub detail: Option<&'a str>,
    pub provider_message: Option<&'a str>,
    pub actor: &'a str,
    pub org: &'a str,
}

/// Closes `c` without an award, tells the invited providers (competition.closed: the code and
/// the words written for them) and logs it with the commissioner's own words.
pub fn close(
    conn: &mut DbConnection,
    events: &mut Events,
    c: &CompetitionRow,
    how: Closing<'_>,
) -> Result<(), DbError> {
    let code = how.reason.code();
    diesel::update(competitions::table.find(&c.id))
        .set((
            competitions::status.eq(Status::Closed.code()),
            competitions::closed_reason.eq(Some(code)),
        ))
        .execute(conn)?;
    let invited = store::invited(conn, &c.id)?;
    events.emit(
        &c.partnership,
        &CompetitionClosed {
            competition_id: uuid(&c.id)?,
            referral_id: uuid(&c.referral_id)?,
            council: c.council.clone(),
            reason: how.reason,
            provider_message: how.provider_message.map(str::to_owned),
            invited,
        },
    );
    let said = match how.detail {
        Some(d) => format!("{code}: {d}"),
        None => code.to_owned(),
    };
    store::log(
        conn,
        &c.id,
        "closed",
        Some(&said),
        serde_json::json!({
            "from": c.status,
            "reason": code,
            "provider_message": how.provider_message,
        }),
        how.actor,
        how.org,
    )?;
    Ok(())
}

/// The providers of a lot with their homes, each marked with whether it has a live vacancy
/// on `today`: what preselection judges (three queries, whatever the number of providers).
pub fn candidates(
    conn: &mut DbConnection,
    lot_id: &str,
    today: NaiveDate,
) -> Result<Vec<Candidate>, DbError> {
    let admitted = store::admitted(conn, lot_id)?;
    let homes = store::homes_in_lot(conn, lot_id)?;
    let vacant: std::collections::HashSet<String> = store::live_vacancies(conn, lot_id, today)?
        .into_iter()
        .map(|v| v.home_id)
        .collect();
    Ok(admitted
        .into_iter()
        .map(|a| Candidate {
            homes: homes
                .iter()
                .filter(|h| h.provider_id == a.provider_id)
                .map(|h| h.facts(vacant.contains(&h.id)))
                .collect(),
            provider_id: a.provider_id,
            name: a.provider_name,
        })
        .collect())
}
