//! Individual Placement Agreements: the agreement of each placement, its versions and its
//! reviews; the sweep that raises reviews due and overdue.

use chrono::{Days, NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_bus::Events;
use hub_events::IpaReviewDue;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    sql::Json,
};

use crate::schema::{ipa_reviews, ipa_versions, ipas, placements};
use crate::{
    domain::{
        Ipa, IpaReview, IpaVersion, PlacementStatus,
        ipa::{Extra, REVIEW_NOTICE_DAYS, ReviewOutcome, VersionStatus, review_notice},
    },
    ids::{IpaId, PlacementId, ReviewId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipas)]
struct IpaRow {
    id: IpaId,
    placement_id: PlacementId,
    council: String,
    partnership: String,
    provider_id: String,
    approved_version: Option<i32>,
    review_frequency_months: Option<i32>,
    next_review_on: Option<NaiveDate>,
    due_raised_for: Option<NaiveDate>,
    overdue_raised_for: Option<NaiveDate>,
    created_at: NaiveDateTime,
    revision: i64,
}

impl From<IpaRow> for Ipa {
    fn from(r: IpaRow) -> Self {
        Self {
            id: r.id,
            placement_id: r.placement_id,
            council: r.council,
            partnership: r.partnership,
            provider_id: r.provider_id,
            approved_version: r.approved_version,
            review_frequency_months: r.review_frequency_months,
            next_review_on: r.next_review_on,
            due_raised_for: r.due_raised_for,
            overdue_raised_for: r.overdue_raised_for,
            created_at: r.created_at,
            revision: r.revision,
        }
    }
}

impl From<&Ipa> for IpaRow {
    fn from(i: &Ipa) -> Self {
        let i = i.clone();
        Self {
            id: i.id,
            placement_id: i.placement_id,
            council: i.council,
            partnership: i.partnership,
            provider_id: i.provider_id,
            approved_version: i.approved_version,
            review_frequency_months: i.review_frequency_months,
            next_review_on: i.next_review_on,
            due_raised_for: i.due_raised_for,
            overdue_raised_for: i.overdue_raised_for,
            created_at: i.created_at,
            revision: i.revision,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipa_versions)]
struct VersionRow {
    ipa_id: IpaId,
    version: i32,
    status: VersionStatus,
    weekly_rate_pence: Pence,
    extras: Json<Vec<Extra>>,
    extras_weekly_pence: Pence,
    contact_arrangements: String,
    review_frequency_months: i32,
    effective_from: NaiveDate,
    change_reason: Option<String>,
    drafted_by: String,
    drafted_by_org: String,
    drafted_at: NaiveDateTime,
    provider_signed_by: Option<String>,
    provider_signed_at: Option<NaiveDateTime>,
    approved_by: Option<String>,
    approved_at: Option<NaiveDateTime>,
    withdrawn_by: Option<String>,
    withdrawn_at: Option<NaiveDateTime>,
}

impl From<VersionRow> for IpaVersion {
    fn from(r: VersionRow) -> Self {
        Self {
            ipa_id: r.ipa_id,
            version: r.version,
            status: r.status,
            weekly_rate_pence: r.weekly_rate_pence,
            extras: r.extras.0,
            extras_weekly_pence: r.extras_weekly_pence,
            contact_arrangements: r.contact_arrangements,
            review_frequency_months: r.review_frequency_months,
            effective_from: r.effective_from,
            change_reason: r.change_reason,
            drafted_by: r.drafted_by,
            drafted_by_org: r.drafted_by_org,
            drafted_at: r.drafted_at,
            provider_signed_by: r.provider_signed_by,
            provider_signed_at: r.provider_signed_at,
            approved_by: r.approved_by,
            approved_at: r.approved_at,
            withdrawn_by: r.withdrawn_by,
            withdrawn_at: r.withdrawn_at,
        }
    }
}

impl From<&IpaVersion> for VersionRow {
    fn from(v: &IpaVersion) -> Self {
        let v = v.clone();
        Self {
            ipa_id: v.ipa_id,
            version: v.version,
            status: v.status,
            weekly_rate_pence: v.weekly_rate_pence,
            extras: Json(v.extras),
            extras_weekly_pence: v.extras_weekly_pence,
            contact_arrangements: v.contact_arrangements,
            review_frequency_months: v.review_frequency_months,
            effective_from: v.effective_from,
            change_reason: v.change_reason,
            drafted_by: v.drafted_by,
            drafted_by_org: v.drafted_by_org,
            drafted_at: v.drafted_at,
            provider_signed_by: v.provider_signed_by,
            provider_signed_at: v.provider_signed_at,
            approved_by: v.approved_by,
            approved_at: v.approved_at,
            withdrawn_by: v.withdrawn_by,
            withdrawn_at: v.withdrawn_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = ipa_reviews)]
struct ReviewRow {
    id: ReviewId,
    ipa_id: IpaId,
    reviewed_on: NaiveDate,
    was_due_on: Option<NaiveDate>,
    outcome: ReviewOutcome,
    notes: Option<String>,
    next_review_on: NaiveDate,
    recorded_by: String,
    recorded_by_org: String,
    recorded_at: NaiveDateTime,
}

impl From<ReviewRow> for IpaReview {
    fn from(r: ReviewRow) -> Self {
        Self {
            id: r.id,
            ipa_id: r.ipa_id,
            reviewed_on: r.reviewed_on,
            was_due_on: r.was_due_on,
            outcome: r.outcome,
            notes: r.notes,
            next_review_on: r.next_review_on,
            recorded_by: r.recorded_by,
            recorded_by_org: r.recorded_by_org,
            recorded_at: r.recorded_at,
        }
    }
}

impl From<&IpaReview> for ReviewRow {
    fn from(r: &IpaReview) -> Self {
        let r = r.clone();
        Self {
            id: r.id,
            ipa_id: r.ipa_id,
            reviewed_on: r.reviewed_on,
            was_due_on: r.was_due_on,
            outcome: r.outcome,
            notes: r.notes,
            next_review_on: r.next_review_on,
            recorded_by: r.recorded_by,
            recorded_by_org: r.recorded_by_org,
            recorded_at: r.recorded_at,
        }
    }
}

pub fn ipa_of(conn: &mut DbConnection, placement_id: PlacementId) -> Result<Option<Ipa>, DbError> {
    Ok(ipas::table
        .filter(ipas::placement_id.eq(placement_id))
        .select(IpaRow::as_select())
        .first(conn)
        .optional()?
        .map(Ipa::from))
}

pub fn create_ipa(conn: &mut DbConnection, ipa: &Ipa) -> Result<(), DbError> {
    diesel::insert_into(ipas::table)
        .values(IpaRow::from(ipa))
        .execute(conn)?;
    Ok(())
}

/// Raises the IPA's revision (its `ETag`) after a change; with `expected`, only if it is
/// still at that revision (compare-and-set: false, changing nothing, if it moved on).
pub fn raise_revision(
    conn: &mut DbConnection,
    id: IpaId,
    expected: Option<i64>,
) -> Result<bool, DbError> {
    let n = match expected {
        Some(rev) => diesel::update(ipas::table.find(id).filter(ipas::revision.eq(rev)))
            .set(ipas::revision.eq(rev + 1))
            .execute(conn)?,
        None => diesel::update(ipas::table.find(id))
            .set(ipas::revision.eq(ipas::revision + 1))
            .execute(conn)?,
    };
    Ok(n == 1)
}

/// Replaces the terms of a draft (`version`, awaiting the provider's signature) with those
/// of `draft`; false, changing nothing, unless it is still a draft.
pub fn replace_draft(conn: &mut DbConnection, draft: &IpaVersion) -> Result<bool, DbError> {
    let row = VersionRow::from(draft);
    let n = diesel::update(
        ipa_versions::table
            .filter(ipa_versions::ipa_id.eq(draft.ipa_id))
            .filter(ipa_versions::version.eq(draft.version))
            .filter(ipa_versions::status.eq(VersionStatus::AwaitingProvider)),
    )
    .set((
        ipa_versions::weekly_rate_pence.eq(row.weekly_rate_pence),
        ipa_versions::extras.eq(row.extras),
        ipa_versions::extras_weekly_pence.eq(row.extras_weekly_pence),
        ipa_versions::contact_arrangements.eq(row.contact_arrangements),
        ipa_versions::review_frequency_months.eq(row.review_frequency_months),
        ipa_versions::effective_from.eq(row.effective_from),
        ipa_versions::change_reason.eq(row.change_reason),
        ipa_versions::drafted_by.eq(row.drafted_by),
        ipa_versions::drafted_by_org.eq(row.drafted_by_org),
        ipa_versions::drafted_at.eq(row.drafted_at),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// The versions of an IPA, first to last.
pub fn versions(conn: &mut DbConnection, ipa_id: IpaId) -> Result<Vec<IpaVersion>, DbError> {
    Ok(ipa_versions::table
        .filter(ipa_versions::ipa_id.eq(ipa_id))
        .order(ipa_versions::version.asc())
        .select(VersionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(IpaVersion::from)
        .collect())
}

pub fn insert_version(conn: &mut DbConnection, version: &IpaVersion) -> Result<(), DbError> {
    diesel::insert_into(ipa_versions::table)
        .values(VersionRow::from(version))
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
    v: &IpaVersion,
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
pub fn record_review(conn: &mut DbConnection, review: &IpaReview) -> Result<(), DbError> {
    diesel::insert_into(ipa_reviews::table)
        .values(ReviewRow::from(review))
        .execute(conn)?;
    diesel::update(ipas::table.find(review.ipa_id))
        .set(ipas::next_review_on.eq(Some(review.next_review_on)))
        .execute(conn)?;
    Ok(())
}

pub fn reviews(conn: &mut DbConnection, ipa_id: IpaId) -> Result<Vec<IpaReview>, DbError> {
    Ok(ipa_reviews::table
        .filter(ipa_reviews::ipa_id.eq(ipa_id))
        .order((
            ipa_reviews::reviewed_on.asc(),
            ipa_reviews::recorded_at.asc(),
        ))
        .select(ReviewRow::as_select())
        .load(conn)?
        .into_iter()
        .map(IpaReview::from)
        .collect())
}

/// Which reviews due a list asks for: only `council`'s or `provider_id`'s when given; only
/// those overdue on `today` (`Some(true)`) or only those not yet (`Some(false)`).
#[derive(Debug, Clone, Default)]
pub struct DueFilter<'a> {
    pub council: Option<&'a str>,
    pub provider_id: Option<&'a str>,
    pub overdue: Option<bool>,
}

/// IPAs of active placements whose review falls due by `today` (within the notice period
/// or past), soonest first (then by id), after the key `after` (a page's: the review day
/// and the IPA's id), at most `limit` of them.
pub fn reviews_due(
    conn: &mut DbConnection,
    today: NaiveDate,
    filter: DueFilter<'_>,
    after: Option<(NaiveDate, IpaId)>,
    limit: i64,
) -> Result<Vec<Ipa>, DbError> {
    let DueFilter {
        council,
        provider_id,
        overdue,
    } = filter;
    let horizon = today + Days::new(REVIEW_NOTICE_DAYS);
    let mut q = ipas::table
        .inner_join(placements::table)
        .filter(placements::status.eq(PlacementStatus::Active))
        .filter(ipas::next_review_on.le(horizon))
        .into_boxed();
    // Overdue from the day after the review's date (`review_is_overdue`).
    match overdue {
        Some(true) => q = q.filter(ipas::next_review_on.lt(today)),
        Some(false) => q = q.filter(ipas::next_review_on.ge(today)),
        None => {}
    }
    if let Some((on, id)) = after {
        q = q.filter(
            ipas::next_review_on
                .gt(on)
                .or(ipas::next_review_on.eq(on).and(ipas::id.gt(id))),
        );
    }
    if let Some(c) = council {
        q = q.filter(ipas::council.eq(c.to_owned()));
    }
    if let Some(p) = provider_id {
        q = q.filter(ipas::provider_id.eq(p.to_owned()));
    }
    Ok(q.order((ipas::next_review_on.asc(), ipas::id.asc()))
        .limit(limit)
        .select(IpaRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Ipa::from)
        .collect())
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
    // As many as before pages existed: the sweep's batch, not a list's page.
    let batch = 1000;
    for ipa in reviews_due(conn, today, DueFilter::default(), None, batch)? {
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
