//! Frameworks, their lots and admission rounds, and the providers admitted to each lot
//! (Provider Responses, with their prices by need level).

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError},
    directory,
    sql::Json,
};

use super::schema::*;
use crate::{
    domain::{
        AdmittedProvider, Framework, FrameworkKind, Lot, Round, RoundKind, criteria::Criterion,
    },
    ids::{FrameworkId, LotId, RoundId},
};

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = frameworks)]
struct FrameworkRow {
    id: FrameworkId,
    partnership: String,
    name: String,
    kind: FrameworkKind,
    lead_commissioner: String,
    start_date: NaiveDate,
    end_date: NaiveDate,
    review_date: NaiveDate,
    purchasing_bodies: Option<Json<Vec<String>>>,
    created_by: String,
    created_at: NaiveDateTime,
}

impl From<FrameworkRow> for Framework {
    fn from(r: FrameworkRow) -> Self {
        Self {
            id: r.id,
            partnership: r.partnership,
            name: r.name,
            kind: r.kind,
            lead_commissioner: r.lead_commissioner,
            start_date: r.start_date,
            end_date: r.end_date,
            review_date: r.review_date,
            purchasing_bodies: r.purchasing_bodies.map(|b| b.0),
            created_by: r.created_by,
            created_at: r.created_at,
        }
    }
}

impl From<&Framework> for FrameworkRow {
    fn from(f: &Framework) -> Self {
        Self {
            id: f.id,
            partnership: f.partnership.clone(),
            name: f.name.clone(),
            kind: f.kind,
            lead_commissioner: f.lead_commissioner.clone(),
            start_date: f.start_date,
            end_date: f.end_date,
            review_date: f.review_date,
            purchasing_bodies: f.purchasing_bodies.clone().map(Json),
            created_by: f.created_by.clone(),
            created_at: f.created_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = lots)]
struct LotRow {
    id: LotId,
    framework_id: FrameworkId,
    name: String,
    placement_type: String,
    min_age_years: Option<i32>,
    max_age_years: Option<i32>,
    cohort: Option<String>,
    default_criteria: Option<Json<Vec<Criterion>>>,
}

impl From<LotRow> for Lot {
    fn from(r: LotRow) -> Self {
        Self {
            id: r.id,
            framework_id: r.framework_id,
            name: r.name,
            placement_type: r.placement_type,
            min_age_years: r.min_age_years,
            max_age_years: r.max_age_years,
            cohort: r.cohort,
            default_criteria: r.default_criteria.map(|c| c.0),
        }
    }
}

impl From<&Lot> for LotRow {
    fn from(l: &Lot) -> Self {
        Self {
            id: l.id,
            framework_id: l.framework_id,
            name: l.name.clone(),
            placement_type: l.placement_type.clone(),
            min_age_years: l.min_age_years,
            max_age_years: l.max_age_years,
            cohort: l.cohort.clone(),
            default_criteria: l.default_criteria.clone().map(Json),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admission_rounds)]
struct RoundRow {
    id: RoundId,
    framework_id: FrameworkId,
    kind: RoundKind,
    note: Option<String>,
    closes_on: Option<NaiveDate>,
    opened_by: String,
    opened_at: NaiveDateTime,
    closed_by: Option<String>,
    closed_at: Option<NaiveDateTime>,
}

impl From<RoundRow> for Round {
    fn from(r: RoundRow) -> Self {
        Self {
            id: r.id,
            framework_id: r.framework_id,
            kind: r.kind,
            note: r.note,
            closes_on: r.closes_on,
            opened_by: r.opened_by,
            opened_at: r.opened_at,
            closed_by: r.closed_by,
            closed_at: r.closed_at,
        }
    }
}

impl From<&Round> for RoundRow {
    fn from(r: &Round) -> Self {
        Self {
            id: r.id,
            framework_id: r.framework_id,
            kind: r.kind,
            note: r.note.clone(),
            closes_on: r.closes_on,
            opened_by: r.opened_by.clone(),
            opened_at: r.opened_at,
            closed_by: r.closed_by.clone(),
            closed_at: r.closed_at,
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = admissions)]
struct AdmissionRow {
    lot_id: LotId,
    provider_id: String,
    provider_name: String,
    weekly_price_pence: Pence,
    prices: Json<BTreeMap<String, Pence>>,
    capacity: Option<i32>,
    round_id: Option<RoundId>,
    admitted_by: String,
    admitted_at: NaiveDateTime,
}

impl From<AdmissionRow> for AdmittedProvider {
    fn from(r: AdmissionRow) -> Self {
        Self {
            lot_id: r.lot_id,
            provider_id: r.provider_id,
            provider_name: r.provider_name,
            weekly_price_pence: r.weekly_price_pence,
            prices: r.prices.0,
            capacity: r.capacity,
            round_id: r.round_id,
            admitted_by: r.admitted_by,
            admitted_at: r.admitted_at,
        }
    }
}

impl From<&AdmittedProvider> for AdmissionRow {
    fn from(a: &AdmittedProvider) -> Self {
        Self {
            lot_id: a.lot_id,
            provider_id: a.provider_id.clone(),
            provider_name: a.provider_name.clone(),
            weekly_price_pence: a.weekly_price_pence,
            prices: Json(a.prices.clone()),
            capacity: a.capacity,
            round_id: a.round_id,
            admitted_by: a.admitted_by.clone(),
            admitted_at: a.admitted_at,
        }
    }
}

/// Stores a framework set up with its lots and its set-up admission round.
pub fn insert_framework(
    conn: &mut DbConnection,
    fw: &Framework,
    lots: &[Lot],
    setup: &Round,
) -> Result<(), DbError> {
    diesel::insert_into(frameworks::table)
        .values(FrameworkRow::from(fw))
        .execute(conn)?;
    for l in lots {
        diesel::insert_into(lots::table)
            .values(LotRow::from(l))
            .execute(conn)?;
    }
    insert_round(conn, setup)
}

/// Stores a new admission round.
pub fn insert_round(conn: &mut DbConnection, round: &Round) -> Result<(), DbError> {
    diesel::insert_into(admission_rounds::table)
        .values(RoundRow::from(round))
        .execute(conn)?;
    Ok(())
}

/// Stores the close `round` carries (when, and by whom).
pub fn save_round_closed(conn: &mut DbConnection, round: &Round) -> Result<(), DbError> {
    diesel::update(admission_rounds::table.find(&round.id))
        .set((
            admission_rounds::closed_at.eq(round.closed_at),
            admission_rounds::closed_by.eq(&round.closed_by),
        ))
        .execute(conn)?;
    Ok(())
}

/// Stores the default criteria `lot` carries.
pub fn save_lot_criteria(conn: &mut DbConnection, lot: &Lot) -> Result<(), DbError> {
    diesel::update(lots::table.find(&lot.id))
        .set(lots::default_criteria.eq(lot.default_criteria.clone().map(Json)))
        .execute(conn)?;
    Ok(())
}

/// Stores a provider's admission to a lot.
pub fn insert_admission(conn: &mut DbConnection, a: &AdmittedProvider) -> Result<(), DbError> {
    diesel::insert_into(admissions::table)
        .values(AdmissionRow::from(a))
        .execute(conn)?;
    Ok(())
}

pub fn framework(conn: &mut DbConnection, id: &FrameworkId) -> Result<Option<Framework>, DbError> {
    Ok(frameworks::table
        .find(id)
        .select(FrameworkRow::as_select())
        .first(conn)
        .optional()?
        .map(Framework::from))
}

/// Who lists frameworks: a council, or a provider.
pub enum FrameworkLister<'a> {
    Council(&'a str),
    Provider(&'a str),
}

/// A page of the frameworks `who` may list, newest first (`id` descending, UUIDv7), after
/// `after`: a council's are those it leads, may call off (`purchasing_bodies`, a JSON array
/// of quoted GSS codes) or whose partnership it is a member of; a provider's are those it is
/// admitted to or whose admission round is open on `today`. The caller keeps the domain's
/// own test (`Framework::visible_to_council`, `Round::is_open`) on what this finds.
pub fn frameworks_listed(
    conn: &mut DbConnection,
    who: FrameworkLister<'_>,
    today: NaiveDate,
    after: Option<&FrameworkId>,
    fetch: i64,
) -> Result<Vec<Framework>, DbError> {
    let mut q = frameworks::table.into_boxed();
    match who {
        FrameworkLister::Council(org) => {
            let partnerships: Vec<&str> = directory::partnerships_of(org).map(|p| p.code).collect();
            q = q.filter(
                frameworks::lead_commissioner
                    .eq(org.to_owned())
                    .or(frameworks::partnership.eq_any(partnerships))
                    .or(frameworks::purchasing_bodies.like(format!("%\"{org}\"%"))),
            );
        }
        FrameworkLister::Provider(org) => {
            let admitted_lots = admissions::table
                .filter(admissions::provider_id.eq(org.to_owned()))
                .select(admissions::lot_id);
            let admitted = lots::table
                .filter(lots::id.eq_any(admitted_lots))
                .select(lots::framework_id);
            let open = admission_rounds::table
                .filter(admission_rounds::closed_at.is_null())
                .filter(
                    admission_rounds::closes_on
                        .is_null()
                        .or(admission_rounds::closes_on.ge(today)),
                )
                .select(admission_rounds::framework_id);
            q = q.filter(
                frameworks::id
                    .eq_any(admitted)
                    .or(frameworks::id.eq_any(open)),
            );
        }
    }
    if let Some(after) = after {
        q = q.filter(frameworks::id.lt(after.to_owned()));
    }
    Ok(q.order(frameworks::id.desc())
        .limit(fetch)
        .select(FrameworkRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Framework::from)
        .collect())
}

pub fn lots_of(conn: &mut DbConnection, framework_id: &FrameworkId) -> Result<Vec<Lot>, DbError> {
    Ok(lots::table
        .filter(lots::framework_id.eq(framework_id))
        .order(lots::id)
        .select(LotRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Lot::from)
        .collect())
}

pub fn lot(conn: &mut DbConnection, id: &LotId) -> Result<Option<Lot>, DbError> {
    Ok(lots::table
        .find(id)
        .select(LotRow::as_select())
        .first(conn)
        .optional()?
        .map(Lot::from))
}

pub fn rounds_of(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<Round>, DbError> {
    Ok(admission_rounds::table
        .filter(admission_rounds::framework_id.eq(framework_id))
        .order(admission_rounds::opened_at)
        .select(RoundRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Round::from)
        .collect())
}

pub fn admitted(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<AdmittedProvider>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq(lot_id))
        .order(admissions::provider_id)
        .select(AdmissionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AdmittedProvider::from)
        .collect())
}

/// The providers admitted to a lot, by id.
pub fn admitted_providers(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<String>, DbError> {
    Ok(admitted(conn, lot_id)?
        .into_iter()
        .map(|a| a.provider_id)
        .collect())
}

/// Every admission of every lot of a framework (one query).
pub fn admitted_in_framework(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<AdmittedProvider>, DbError> {
    let lot_ids = lots::table
        .filter(lots::framework_id.eq(*framework_id))
        .select(lots::id);
    Ok(admissions::table
        .filter(admissions::lot_id.eq_any(lot_ids))
        .order((admissions::lot_id, admissions::provider_id))
        .select(AdmissionRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AdmittedProvider::from)
        .collect())
}

pub fn admission(
    conn: &mut DbConnection,
    lot_id: &LotId,
    provider_id: &str,
) -> Result<Option<AdmittedProvider>, DbError> {
    Ok(admissions::table
        .find((lot_id, provider_id))
        .select(AdmissionRow::as_select())
        .first(conn)
        .optional()?
        .map(AdmittedProvider::from))
}

/// The names providers were admitted under, by lot and provider (one query).
pub fn provider_names(
    conn: &mut DbConnection,
    lot_ids: &[LotId],
) -> Result<std::collections::HashMap<(LotId, String), String>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq_any(lot_ids))
        .select((
            admissions::lot_id,
            admissions::provider_id,
            admissions::provider_name,
        ))
        .load::<(LotId, String, String)>(conn)?
        .into_iter()
        .map(|(l, p, n)| ((l, p), n))
        .collect())
}
