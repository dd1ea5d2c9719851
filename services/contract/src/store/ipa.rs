//! Individual Placement Agreements: the agreement of each placement, its versions and its
//! reviews; the sweep that raises reviews due and overdue.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::IpaReviewDue;
use hub_platform::{
    Pence, Principal,
    db::{DbConnection, DbError},
    sql::Json,
};

use super::Visible;
use crate::schema::{ipa_reviews, ipa_versions, ipas, placements};
use crate::{
    domain::{
        PlacementStatus,
        ipa::{Extra, REVIEW_NOTICE_DAYS, ReviewOutcome, VersionStatus, review_notice},
        may_see,
    },
    ids::{IpaId, PlacementId, ReviewId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipas)]
pub struct IpaRow {
    pub id: IpaId,
    pub placement_id: PlacementId,
    pub council: String,
    pub partnership: String,
    pub provider_id: String,
    pub approved_version: Option<i32>,
    pub review_frequency_months: Option<i32>,
    pub next_review_on: Option<NaiveDate>,
    pub due_raised_for: Option<NaiveDate>,
    pub overdue_raised_for: Option<NaiveDate>,
    pub created_at: NaiveDateTime,
}

/// Whoever may see the placement.
impl Visible for IpaRow {
    const WHAT: &'static str = "IPA";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.council, &self.provider_id)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipa_versions)]
pub struct VersionRow {
    pub ipa_id: IpaId,
    pub version: i32,
    pub status: VersionStatus,
    pub weekly_rate_pence: Pence,
    pub extras: Json<Vec<Extra>>,
    pub extras_weekly_pence: Pence,
    pub contact_arrangements: String,
    pub review_frequency_months: i32,
    pub effective_from: NaiveDate,
    pub change_reason: Option<String>,
    pub drafted_by: String,
    pub drafted_by_org: String,
    pub drafted_at: NaiveDateTime,
    pub provider_signed_by: Option<String>,
    pub provider_signed_at: Option<NaiveDateTime>,
    pub approved_by: Option<String>,
    pub approved_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<String>,
    pub withdrawn_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipa_reviews)]
pub struct ReviewRow {
    pub id: ReviewId,
    pub ipa_id: IpaId,
    pub reviewed_on: NaiveDate,
    pub was_due_on: Option<NaiveDate>,
    pub outcome: ReviewOutcome,
    pub notes: Option<String>,
    pub next_review_on: NaiveDate,
    pub recorded_by: String,
    pub recorded_by_org: String,
    pub recorded_at: NaiveDateTime,
}

pub fn ipa_of(
    conn: &mut DbConnection,
    placement_id: PlacementId,
) -> Result<Option<IpaRow>, DbError> {
    Ok(ipas::table
        .filter(ipas::placement_id.eq(placement_id))
        .select(IpaRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn create_ipa(conn: &mut DbConnection, row: &IpaRow) -> Result<(), DbError> {
    diesel::insert_into(ipas::table).values(row).execute(conn)?;
    Ok(())
}

/// The versions of an IPA, first to last.
pub fn versions(conn: &mut DbConnection, ipa_id: IpaId) -> Result<Vec<VersionRow>, DbError> {
    Ok(ipa_versions::table
        .filter(ipa_versions::ipa_id.eq(ipa_id))
        .order(ipa_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?)
}

pub fn insert_version(conn: &mut DbConnection, row: &VersionRow) -> Result<(), DbError> {
    diesel::insert_into(ipa_versions::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// The provider signs a drafted version; false unless it was awaiting the provider.
pub fn sign_version(
    conn: &mut DbConnection,
    ipa_id: IpaId,
    version: i32,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        ipa_versions::table
            .find((ipa_id, version))
            .filter(ipa_versions::status.eq(VersionStatus::AwaitingProvider)),
    )
    .set((
        ipa_versions::status.eq(VersionStatus::AwaitingApproval),
        ipa_versions::provider_signed_by.eq(Some(by)),
        ipa_versions::provider_signed_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The council withdraws a version not yet approved; false unless it was pending.
pub fn withdraw_version(
    conn: &mut DbConnection,
    ipa_id: IpaId,
    version: i32,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        ipa_versions::table.find((ipa_id, version)).filter(
            ipa_versions::status
                .eq(VersionStatus::AwaitingProvider)
                .or(ipa_versions::status.eq(VersionStatus::AwaitingApproval)),
        ),
    )
    .set((
        ipa_versions::status.eq(VersionStatus::Withdrawn),
        ipa_versions::withdrawn_by.eq(Some(by)),
        ipa_versions::withdrawn_at.eq(Some(at)),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The social worker approves a signed version: it comes into force, the one before it is
/// superseded, the IPA's review schedule restarts from its effective day, and the
/// placement's weekly figures become the version's. False unless it was awaiting approval.
pub fn approve_version(
    conn: &mut DbConnection,
    v: &VersionRow,
    placement_id: PlacementId,
    next_review_on: NaiveDate,
    by: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(
        ipa_versions::table
            .find((v.ipa_id, v.version))
            .filter(ipa_versions::status.eq(VersionStatus::AwaitingApproval)),
    )
    .set((
        ipa_versions::status.eq(VersionStatus::Approved),
        ipa_versions::approved_by.eq(Some(by)),
        ipa_versions::approved_at.eq(Some(at)),
    ))
    .execute(conn)?;
    if n != 1 {
        return Ok(false);
    }
    diesel::update(
        ipa_versions::table
            .filter(ipa_versions::ipa_id.eq(&v.ipa_id))
            .filter(ipa_versions::version.ne(v.version))
            .filter(ipa_versions::status.eq(VersionStatus::Approved)),
    )
    .set(ipa_versions::status.eq(VersionStatus::Superseded))
    .execute(conn)?;
    diesel::update(ipas::table.find(v.ipa_id))
        .set((
            ipas::approved_version.eq(Some(v.version)),
            ipas::review_frequency_months.eq(Some(v.review_frequency_months)),
            ipas::next_review_on.eq(Some(next_review_on)),
        ))
        .execute(conn)?;
    diesel::update(placements::table.find(placement_id))
        .set((
            placements::weekly_rate_pence.eq(v.weekly_rate_pence),
            placements::extras_weekly_pence.eq(v.extras_weekly_pence),
            placements::rate_effective_from.eq(Some(v.effective_from)),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Records a review and sets the IPA's next review date.
pub fn record_review(conn: &mut DbConnection, row: &ReviewRow) -> Result<(), DbError> {
    diesel::insert_into(ipa_reviews::table)
        .values(row)
        .execute(conn)?;
    diesel::update(ipas::table.find(row.ipa_id))
        .set(ipas::next_review_on.eq(Some(row.next_review_on)))
        .execute(conn)?;
    Ok(())
}

pub fn reviews(conn: &mut DbConnection, ipa_id: IpaId) -> Result<Vec<ReviewRow>, DbError> {
    Ok(ipa_reviews::table
        .filter(ipa_reviews::ipa_id.eq(ipa_id))
        .order((
            ipa_reviews::reviewed_on.asc(),
            ipa_reviews::recorded_at.asc(),
        ))
        .select(ReviewRow::as_select())
        .load(conn)?)
}

/// IPAs of active placements whose review falls due by `today` (within the notice period
/// or past), soonest first; only `council`'s or `provider_id`'s when given.
pub fn reviews_due(
    conn: &mut DbConnection,
    today: NaiveDate,
    council: Option<&str>,
    provider_id: Option<&str>,
) -> Result<Vec<IpaRow>, DbError> {
    let horizon = today + Days::new(REVIEW_NOTICE_DAYS);
    let mut q = ipas::table
        .inner_join(placements::table)
        .filter(placements::status.eq(PlacementStatus::Active))
        .filter(ipas::next_review_on.le(horizon))
        .into_boxed();
    if let Some(c) = council {
        q = q.filter(ipas::council.eq(c.to_owned()));
    }
    if let Some(p) = provider_id {
        q = q.filter(ipas::provider_id.eq(p.to_owned()));
    }
    Ok(q.order(ipas::next_review_on.asc())
        .limit(1000)
        .select(IpaRow::as_select())
        .load(conn)?)
}

/// Raises `contract.ipa_review_due` for the reviews of active placements that fall due by
/// `today`, one event for the state each is in ([`review_notice`]): once when due (from
/// [`REVIEW_NOTICE_DAYS`] before the date) and once more when overdue (from the day after);
/// a review first seen already overdue is raised once, as overdue. Each is marked with the
/// review date it was raised for in the statement that checks it was not yet, so replicas
/// sweeping at once raise it once; raising it as overdue marks it as announced due as well. A
/// review recorded moves the date, and the next one is raised afresh.
pub fn sweep_ipa_reviews(
    conn: &mut DbConnection,
    today: NaiveDate,
    events: &mut Events,
) -> Result<usize, DbError> {
    let mut raised = 0;
    for ipa in reviews_due(conn, today, None, None)? {
        let Some(on) = ipa.next_review_on else {
            continue;
        };
        let Some(overdue) = review_notice(on, today) else {
            continue;
        };
        let target = ipas::table.find(ipa.id).filter(ipas::next_review_on.eq(on));
        let n = if overdue {
            diesel::update(
                target.filter(
                    ipas::overdue_raised_for
                        .is_null()
                        .or(ipas::overdue_raised_for.ne(on)),
                ),
            )
            .set((
                ipas::overdue_raised_for.eq(Some(on)),
                ipas::due_raised_for.eq(Some(on)),
            ))
            .execute(conn)?
        } else {
            diesel::update(
                target.filter(
                    ipas::due_raised_for
                        .is_null()
                        .or(ipas::due_raised_for.ne(on)),
                ),
            )
            .set(ipas::due_raised_for.eq(Some(on)))
            .execute(conn)?
        };
        if n == 1 {
            events.emit(
                &ipa.partnership,
                &IpaReviewDue {
                    placement_id: ipa.placement_id.into(),
                    ipa_id: ipa.id.into(),
                    council: ipa.council.clone(),
                    provider_id: ipa.provider_id.clone(),
                    review_due_on: on,
                    overdue,
                },
            );
            raised += 1;
        }
    }
    Ok(raised)
}
