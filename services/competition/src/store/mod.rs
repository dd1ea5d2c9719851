//! Tables and queries of the competition service. Lists and maps (purchasing bodies,
//! prices by need level, criteria, preselection, answers) are JSON in text columns, read
//! and written only here and in the API's views.

pub mod offered_beds;

pub mod schema {
    diesel::table! {
        frameworks (id) {
            id -> Text,
            partnership -> Text,
            name -> Text,
            kind -> Text,
            lead_commissioner -> Text,
            start_date -> Date,
            end_date -> Date,
            review_date -> Date,
            purchasing_bodies -> Nullable<Text>,
            created_by -> Text,
            created_at -> Timestamp,
        }
    }
    diesel::table! {
        lots (id) {
            id -> Text,
            framework_id -> Text,
            name -> Text,
            placement_type -> Text,
            min_age_years -> Nullable<Integer>,
            max_age_years -> Nullable<Integer>,
            cohort -> Nullable<Text>,
            default_criteria -> Nullable<Text>,
        }
    }
    diesel::table! {
        admission_rounds (id) {
            id -> Text,
            framework_id -> Text,
            kind -> Text,
            note -> Nullable<Text>,
            closes_on -> Nullable<Date>,
            opened_by -> Text,
            opened_at -> Timestamp,
            closed_by -> Nullable<Text>,
            closed_at -> Nullable<Timestamp>,
        }
    }
    diesel::table! {
        admissions (lot_id, provider_id) {
            lot_id -> Text,
            provider_id -> Text,
            provider_name -> Text,
            weekly_price_pence -> BigInt,
            prices -> Text,
            capacity -> Nullable<Integer>,
            round_id -> Nullable<Text>,
            admitted_by -> Text,
            admitted_at -> Timestamp,
        }
    }
    diesel::table! {
        homes (id) {
            id -> Text,
            lot_id -> Text,
            provider_id -> Text,
            name -> Text,
            kind -> Text,
            latitude -> Double,
            longitude -> Double,
            postcode_district -> Text,
            registered_places -> Integer,
            occupied_places -> Integer,
            genders_accepted -> Text,
            min_age_years -> Integer,
            max_age_years -> Integer,
            specialisms -> Text,
            ofsted_rating -> Nullable<Text>,
            emergency_capacity -> Bool,
            educational_provision -> Text,
            updated_by -> Text,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        vacancies (id) {
            id -> Text,
            provider_id -> Text,
            lot_id -> Text,
            home_id -> Text,
            available_from -> Date,
            expires_on -> Date,
            suits -> Text,
            places -> Integer,
            status -> Text,
            withdrawn_reason -> Nullable<Text>,
            updated_by -> Text,
            created_at -> Timestamp,
            updated_at -> Timestamp,
        }
    }
    diesel::table! {
        competitions (id) {
            id -> Text,
            referral_id -> Text,
            referral_version -> Integer,
            council -> Text,
            partnership -> Text,
            framework_id -> Text,
            lot_id -> Text,
            status -> Text,
            urgency -> Text,
            deadline -> Timestamp,
            awarded_provider -> Nullable<Text>,
            awarded_bid -> Nullable<Text>,
            awarded_by -> Nullable<Text>,
            created_at -> Timestamp,
            route -> Text,
            need_level -> Text,
            criteria -> Text,
            requirement -> Nullable<Text>,
            preselection -> Nullable<Text>,
            left_out -> Nullable<Text>,
            opened_at -> Nullable<Timestamp>,
            opened_by -> Nullable<Text>,
            closed_reason -> Nullable<Text>,
            direct -> Bool,
            awarded_rate_pence -> Nullable<BigInt>,
            awarded_start_date -> Nullable<Date>,
            awarded_at -> Nullable<Timestamp>,
            review_date -> Nullable<Date>,
            reopened_from -> Nullable<Text>,
            bidding_closed_at -> Nullable<Timestamp>,
            bidding_closed_reason -> Nullable<Text>,
        }
    }
    diesel::table! {
        invitation_declines (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
            reason -> Text,
            note -> Nullable<Text>,
            declined_by -> Text,
            declined_at -> Timestamp,
        }
    }
    diesel::table! {
        competition_invitations (competition_id, provider_id) {
            competition_id -> Text,
            provider_id -> Text,
        }
    }
    diesel::table! {
        bids (id) {
            id -> Text,
            competition_id -> Text,
            provider_id -> Text,
            weekly_price_pence -> BigInt,
            start_date -> Date,
            home_id -> Nullable<Text>,
            home_name -> Nullable<Text>,
            home_latitude -> Nullable<Double>,
            home_longitude -> Nullable<Double>,
            answers -> Text,
            provider_response_pence -> Nullable<BigInt>,
            price_variation_evidence -> Nullable<Text>,
            submitted_by -> Text,
            submitted_at -> Timestamp,
        }
    }
    diesel::table! {
        bid_scores (bid_id, criterion) {
            bid_id -> Text,
            criterion -> Text,
            points -> Nullable<Integer>,
            passed -> Nullable<Bool>,
            reason -> Text,
            scored_by -> Text,
            scored_at -> Timestamp,
        }
    }
    diesel::table! {
        direct_awards (competition_id) {
            competition_id -> Text,
            provider_id -> Text,
            weekly_rate_pence -> BigInt,
            start_date -> Date,
            justification -> Text,
            review_date -> Date,
            awarded_by -> Text,
            awarded_at -> Timestamp,
        }
    }
    diesel::table! {
        competition_log (id) {
            id -> Text,
            competition_id -> Text,
            action -> Text,
            reason -> Nullable<Text>,
            detail -> Text,
            actor -> Text,
            org -> Text,
            at -> Timestamp,
        }
    }
    diesel::allow_tables_to_appear_in_same_query!(
        frameworks,
        lots,
        admission_rounds,
        admissions,
        homes,
        vacancies,
        competitions,
        competition_invitations,
        invitation_declines,
        bids,
        bid_scores,
        direct_awards,
        competition_log,
    );
}

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveDateTime, Utc};
use diesel::{prelude::*, sql_types::Text};
use hub_events::ReferralSubmitted;
use hub_platform::{
    Pence,
    db::{DbConnection, DbError, rows_per_statement, values_rows},
    sql::Json,
};
use schema::*;
use serde::Serialize;
use utoipa::ToSchema;

use crate::{
    domain::{
        FrameworkKind, RoundKind,
        calloff::{CloseBiddingReason, DeclineReason, Status},
        criteria::{Criterion, CriterionName, fallback_criteria},
        evaluation::Mark,
        homes::{HomeKind, OfstedRating, VacancyStatus},
        preselection::{HomeFacts, LeftOut, Preselection},
    },
    ids::{
        BidId, CompetitionId, FrameworkId, HomeId, LogEntryId, LotId, ReferralId, RoundId,
        VacancyId,
    },
};

pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc()
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = frameworks)]
pub struct FrameworkRow {
    pub id: FrameworkId,
    pub partnership: String,
    pub name: String,
    pub kind: FrameworkKind,
    pub lead_commissioner: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub review_date: NaiveDate,
    #[serde(skip)]
    pub purchasing_bodies: Option<Json<Vec<String>>>,
    pub created_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
}

impl FrameworkRow {
    /// The councils that may call off: as set up, or (frameworks set up before purchasing
    /// bodies were recorded) the partnership's members.
    pub fn purchasing_bodies(&self) -> Vec<String> {
        self.purchasing_bodies
            .as_ref()
            .map(|b| b.0.clone())
            .unwrap_or_else(|| {
                hub_platform::directory::partnership(&self.partnership)
                    .map(|p| p.members.iter().map(|m| (*m).to_owned()).collect())
                    .unwrap_or_default()
            })
    }

    pub fn may_call_off(&self, council: &str) -> bool {
        self.purchasing_bodies().iter().any(|b| b == council)
    }

    /// Councils that may read the framework: the lead, the purchasing bodies, the
    /// partnership's members.
    pub fn visible_to_council(&self, org: &str) -> bool {
        self.lead_commissioner == org
            || self.may_call_off(org)
            || hub_platform::directory::partnership(&self.partnership)
                .is_some_and(|p| p.has_member(org))
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = lots)]
pub struct LotRow {
    pub id: LotId,
    pub framework_id: FrameworkId,
    pub name: String,
    pub placement_type: String,
    pub min_age_years: Option<i32>,
    pub max_age_years: Option<i32>,
    pub cohort: Option<String>,
    #[serde(skip)]
    pub default_criteria: Option<Json<Vec<Criterion>>>,
}

impl LotRow {
    /// The criteria a competition on this lot starts from.
    pub fn criteria(&self) -> Vec<Criterion> {
        self.default_criteria
            .as_ref()
            .map_or_else(fallback_criteria, |c| c.0.clone())
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = admission_rounds)]
pub struct RoundRow {
    pub id: RoundId,
    pub framework_id: FrameworkId,
    pub kind: RoundKind,
    pub note: Option<String>,
    pub closes_on: Option<NaiveDate>,
    pub opened_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: NaiveDateTime,
    pub closed_by: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<NaiveDateTime>,
}

impl RoundRow {
    pub fn is_open(&self, today: NaiveDate) -> bool {
        crate::domain::round_is_open(self.closed_at.is_some(), self.closes_on, today)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = admissions)]
pub struct AdmissionRow {
    pub lot_id: LotId,
    pub provider_id: String,
    pub provider_name: String,
    /// The standard rate (else the lowest): what a single price meant before need levels.
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    #[serde(skip)]
    pub prices: Json<BTreeMap<String, i64>>,
    pub capacity: Option<i32>,
    pub round_id: Option<RoundId>,
    pub admitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub admitted_at: NaiveDateTime,
}

impl AdmissionRow {
    pub fn prices(&self) -> BTreeMap<String, i64> {
        self.prices.0.clone()
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = homes)]
pub struct HomeRow {
    pub id: HomeId,
    pub lot_id: LotId,
    pub provider_id: String,
    pub name: String,
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode_district: String,
    pub registered_places: i32,
    pub occupied_places: i32,
    pub genders_accepted: Json<Vec<String>>,
    pub min_age_years: i32,
    pub max_age_years: i32,
    pub specialisms: Json<Vec<String>>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    pub educational_provision: Json<Vec<String>>,
    pub updated_by: String,
    pub updated_at: NaiveDateTime,
}

impl HomeRow {
    pub fn facts(&self, live_vacancy: bool) -> HomeFacts {
        HomeFacts {
            id: self.id.to_string(),
            name: self.name.clone(),
            latitude: self.latitude,
            longitude: self.longitude,
            registered_places: self.registered_places.max(0) as u32,
            occupied_places: self.occupied_places.max(0) as u32,
            genders_accepted: self.genders_accepted.0.clone(),
            min_age_years: self.min_age_years.max(0) as u32,
            max_age_years: self.max_age_years.max(0) as u32,
            emergency_capacity: self.emergency_capacity,
            educational_provision: self.educational_provision.0.clone(),
            live_vacancy,
        }
    }

    pub fn view(&self) -> HomeView {
        HomeView {
            id: self.id.clone(),
            lot_id: self.lot_id.clone(),
            provider_id: self.provider_id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            latitude: self.latitude,
            longitude: self.longitude,
            postcode_district: self.postcode_district.clone(),
            registered_places: self.registered_places,
            occupied_places: self.occupied_places,
            genders_accepted: self.genders_accepted.0.clone(),
            min_age_years: self.min_age_years,
            max_age_years: self.max_age_years,
            specialisms: self.specialisms.0.clone(),
            ofsted_rating: self.ofsted_rating,
            emergency_capacity: self.emergency_capacity,
            educational_provision: self.educational_provision.0.clone(),
            updated_by: self.updated_by.clone(),
            updated_at: self.updated_at,
        }
    }
}

/// A home or fostering household as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HomeView {
    pub id: HomeId,
    pub lot_id: LotId,
    pub provider_id: String,
    pub name: String,
    pub kind: HomeKind,
    pub latitude: f64,
    pub longitude: f64,
    pub postcode_district: String,
    pub registered_places: i32,
    pub occupied_places: i32,
    pub genders_accepted: Vec<String>,
    pub min_age_years: i32,
    pub max_age_years: i32,
    pub specialisms: Vec<String>,
    pub ofsted_rating: Option<OfstedRating>,
    pub emergency_capacity: bool,
    pub educational_provision: Vec<String>,
    pub updated_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = vacancies)]
pub struct VacancyRow {
    pub id: VacancyId,
    pub provider_id: String,
    pub lot_id: LotId,
    pub home_id: HomeId,
    pub available_from: NaiveDate,
    pub expires_on: NaiveDate,
    pub suits: String,
    pub places: i32,
    pub status: VacancyStatus,
    pub withdrawn_reason: Option<String>,
    pub updated_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = competitions)]
pub struct CompetitionRow {
    pub id: CompetitionId,
    pub referral_id: ReferralId,
    pub referral_version: i32,
    pub council: String,
    pub partnership: String,
    pub framework_id: FrameworkId,
    pub lot_id: LotId,
    pub status: Status,
    pub urgency: String,
    #[schema(value_type = String, format = DateTime)]
    pub deadline: NaiveDateTime,
    pub awarded_provider: Option<String>,
    pub awarded_bid: Option<BidId>,
    pub awarded_by: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: NaiveDateTime,
    /// `mini_competition`, `preselected_mini_competition` or `direct_award`.
    pub route: String,
    /// The need level whose Provider Response rates bids are held to.
    pub need_level: String,
    #[serde(skip)]
    pub criteria: Json<Vec<Criterion>>,
    #[serde(skip)]
    pub requirement: Option<Json<ReferralSubmitted>>,
    #[serde(skip)]
    pub preselection: Option<Json<Preselection>>,
    #[serde(skip)]
    pub left_out: Option<Json<Vec<LeftOut>>>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub opened_at: Option<NaiveDateTime>,
    pub opened_by: Option<String>,
    pub closed_reason: Option<String>,
    /// Awarded directly (an emergency), not by mini-competition.
    pub direct: bool,
    #[schema(value_type = Option<i64>)]
    pub awarded_rate_pence: Option<Pence>,
    pub awarded_start_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub awarded_at: Option<NaiveDateTime>,
    /// A direct award's next review.
    pub review_date: Option<NaiveDate>,
    /// The competition (or direct award) this one reopened.
    pub reopened_from: Option<CompetitionId>,
    /// When the commissioner closed bidding before the deadline, if they did…
    #[schema(value_type = Option<String>, format = DateTime)]
    pub bidding_closed_at: Option<NaiveDateTime>,
    /// …and the reason code the invited providers were told.
    pub bidding_closed_reason: Option<CloseBiddingReason>,
}

impl CompetitionRow {
    pub fn criteria(&self) -> Vec<Criterion> {
        self.criteria.0.clone()
    }

    /// The referral.submitted payload it was opened from (codes and bands only).
    pub fn requirement(&self) -> Option<&ReferralSubmitted> {
        self.requirement.as_deref()
    }

    pub fn preselection(&self) -> Option<&Preselection> {
        self.preselection.as_deref()
    }

    pub fn left_out(&self) -> Vec<LeftOut> {
        self.left_out
            .as_ref()
            .map(|l| l.0.clone())
            .unwrap_or_default()
    }

    /// The child's maximum distance: the preselection's if set, else the referral's.
    pub fn max_distance_miles(&self) -> f64 {
        if let Some(p) = self.preselection() {
            return p.max_distance_miles;
        }
        self.requirement().map_or(0.0, |r| r.max_distance_miles)
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = bids)]
pub struct BidRow {
    pub id: BidId,
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_price_pence: Pence,
    pub start_date: NaiveDate,
    pub home_id: Option<HomeId>,
    pub home_name: Option<String>,
    #[serde(skip)]
    pub home_latitude: Option<f64>,
    #[serde(skip)]
    pub home_longitude: Option<f64>,
    #[serde(skip)]
    pub answers: Json<BTreeMap<String, String>>,
    /// The Provider Response rate at the competition's need level when the bid was made.
    #[schema(value_type = Option<i64>)]
    pub provider_response_pence: Option<Pence>,
    pub price_variation_evidence: Option<String>,
    pub submitted_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: NaiveDateTime,
}

impl BidRow {
    pub fn answers(&self) -> BTreeMap<String, String> {
        self.answers.0.clone()
    }
}

/// An invited provider's decline (the council sees them all; a provider its own).
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = invitation_declines)]
pub struct DeclineRow {
    #[serde(skip)]
    pub competition_id: CompetitionId,
    pub provider_id: String,
    pub reason: DeclineReason,
    pub note: Option<String>,
    pub declined_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub declined_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = bid_scores)]
pub struct ScoreRow {
    pub bid_id: BidId,
    pub criterion: CriterionName,
    pub points: Option<i32>,
    pub passed: Option<bool>,
    pub reason: String,
    pub scored_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub scored_at: NaiveDateTime,
}

impl ScoreRow {
    pub fn mark(&self) -> Mark {
        Mark {
            points: self.points.map(|p| p.max(0) as u32),
            passed: self.passed,
            reason: self.reason.clone(),
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = direct_awards)]
pub struct DirectAwardRow {
    pub competition_id: CompetitionId,
    pub provider_id: String,
    #[schema(value_type = i64)]
    pub weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    pub justification: String,
    pub review_date: NaiveDate,
    pub awarded_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub awarded_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, ToSchema)]
#[diesel(table_name = competition_log)]
pub struct LogRow {
    pub id: LogEntryId,
    pub competition_id: CompetitionId,
    /// `opened`, `preselection_changed`, `criteria_changed`, `closed`, `reopened`,
    /// `rerouted`, `awarded`, `direct_award`, `review_kept`, `review_reopened`.
    pub action: String,
    pub reason: Option<String>,
    #[serde(skip)]
    pub detail: Json<serde_json::Value>,
    pub actor: String,
    pub org: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: NaiveDateTime,
}

/// Records what happened to a competition and who did it.
pub fn log(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    action: &str,
    reason: Option<&str>,
    detail: serde_json::Value,
    actor: &str,
    org: &str,
) -> Result<(), DbError> {
    diesel::insert_into(competition_log::table)
        .values(&LogRow {
            id: LogEntryId::new(),
            competition_id: *competition_id,
            action: action.to_owned(),
            reason: reason.map(str::to_owned),
            detail: Json(detail),
            actor: actor.to_owned(),
            org: org.to_owned(),
            at: now(),
        })
        .execute(conn)?;
    Ok(())
}

pub fn log_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<LogRow>, DbError> {
    Ok(competition_log::table
        .filter(competition_log::competition_id.eq(competition_id))
        .order(competition_log::id)
        .select(LogRow::as_select())
        .load(conn)?)
}

pub fn framework(
    conn: &mut DbConnection,
    id: &FrameworkId,
) -> Result<Option<FrameworkRow>, DbError> {
    Ok(frameworks::table
        .find(id)
        .select(FrameworkRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn lots_of(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<LotRow>, DbError> {
    Ok(lots::table
        .filter(lots::framework_id.eq(framework_id))
        .order(lots::id)
        .select(LotRow::as_select())
        .load(conn)?)
}

pub fn lot(conn: &mut DbConnection, id: &LotId) -> Result<Option<LotRow>, DbError> {
    Ok(lots::table
        .find(id)
        .select(LotRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn rounds_of(
    conn: &mut DbConnection,
    framework_id: &FrameworkId,
) -> Result<Vec<RoundRow>, DbError> {
    Ok(admission_rounds::table
        .filter(admission_rounds::framework_id.eq(framework_id))
        .order(admission_rounds::opened_at)
        .select(RoundRow::as_select())
        .load(conn)?)
}

pub fn admitted(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<AdmissionRow>, DbError> {
    Ok(admissions::table
        .filter(admissions::lot_id.eq(lot_id))
        .order(admissions::provider_id)
        .select(AdmissionRow::as_select())
        .load(conn)?)
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
) -> Result<Vec<AdmissionRow>, DbError> {
    let lot_ids = lots::table
        .filter(lots::framework_id.eq(*framework_id))
        .select(lots::id);
    Ok(admissions::table
        .filter(admissions::lot_id.eq_any(lot_ids))
        .order((admissions::lot_id, admissions::provider_id))
        .select(AdmissionRow::as_select())
        .load(conn)?)
}

pub fn admission(
    conn: &mut DbConnection,
    lot_id: &LotId,
    provider_id: &str,
) -> Result<Option<AdmissionRow>, DbError> {
    Ok(admissions::table
        .find((lot_id, provider_id))
        .select(AdmissionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn homes_in_lot(conn: &mut DbConnection, lot_id: &LotId) -> Result<Vec<HomeRow>, DbError> {
    Ok(homes::table
        .filter(homes::lot_id.eq(lot_id))
        .order((homes::provider_id, homes::name))
        .select(HomeRow::as_select())
        .load(conn)?)
}

pub fn home(conn: &mut DbConnection, id: &HomeId) -> Result<Option<HomeRow>, DbError> {
    Ok(homes::table
        .find(id)
        .select(HomeRow::as_select())
        .first(conn)
        .optional()?)
}

/// Live vacancies of a lot on `today` (withdrawn and expired ones are not listed).
pub fn live_vacancies(
    conn: &mut DbConnection,
    lot_id: &LotId,
    today: NaiveDate,
) -> Result<Vec<VacancyRow>, DbError> {
    Ok(vacancies::table
        .filter(vacancies::lot_id.eq(lot_id))
        .filter(vacancies::status.eq(VacancyStatus::Live))
        .filter(vacancies::expires_on.ge(today))
        .order(vacancies::id)
        .select(VacancyRow::as_select())
        .load(conn)?)
}

/// A provider's own live vacancies on `today`, in every lot.
pub fn live_vacancies_of(
    conn: &mut DbConnection,
    provider_id: &str,
    today: NaiveDate,
) -> Result<Vec<VacancyRow>, DbError> {
    Ok(vacancies::table
        .filter(vacancies::provider_id.eq(provider_id))
        .filter(vacancies::status.eq(VacancyStatus::Live))
        .filter(vacancies::expires_on.ge(today))
        .order(vacancies::id)
        .select(VacancyRow::as_select())
        .load(conn)?)
}

/// The homes of `ids` that exist (one query).
pub fn homes(conn: &mut DbConnection, ids: &[HomeId]) -> Result<Vec<HomeRow>, DbError> {
    Ok(homes::table
        .filter(homes::id.eq_any(ids))
        .select(HomeRow::as_select())
        .load(conn)?)
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

pub fn vacancy(conn: &mut DbConnection, id: &VacancyId) -> Result<Option<VacancyRow>, DbError> {
    Ok(vacancies::table
        .find(id)
        .select(VacancyRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn competition(
    conn: &mut DbConnection,
    id: &CompetitionId,
) -> Result<Option<CompetitionRow>, DbError> {
    Ok(competitions::table
        .find(id)
        .select(CompetitionRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn competitions_of_referral(
    conn: &mut DbConnection,
    referral_id: &ReferralId,
) -> Result<Vec<CompetitionRow>, DbError> {
    Ok(competitions::table
        .filter(competitions::referral_id.eq(referral_id))
        .order(competitions::created_at)
        .select(CompetitionRow::as_select())
        .load(conn)?)
}

pub fn invited(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<String>, DbError> {
    Ok(competition_invitations::table
        .filter(competition_invitations::competition_id.eq(competition_id))
        .order(competition_invitations::provider_id)
        .select(competition_invitations::provider_id)
        .load(conn)?)
}

pub fn invite(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    providers: &[String],
) -> Result<(), DbError> {
    // One statement for all of them (the MultiConnection has no batch `values(&vec)`).
    for chunk in providers.chunks(rows_per_statement(2)) {
        let mut q = diesel::sql_query(format!(
            "INSERT INTO competition_invitations (competition_id, provider_id) VALUES {}",
            values_rows(1, chunk.len(), 2)
        ))
        .into_boxed();
        for p in chunk {
            q = q
                .bind::<Text, _>(*competition_id)
                .bind::<Text, _>(p.clone());
        }
        q.execute(conn)?;
    }
    Ok(())
}

pub fn bids_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<BidRow>, DbError> {
    Ok(bids::table
        .filter(bids::competition_id.eq(competition_id))
        .order(bids::provider_id)
        .select(BidRow::as_select())
        .load(conn)?)
}

/// Every mark on every bid of a competition (one query).
pub fn scores_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<ScoreRow>, DbError> {
    let bid_ids = bids::table
        .filter(bids::competition_id.eq(*competition_id))
        .select(bids::id);
    Ok(bid_scores::table
        .filter(bid_scores::bid_id.eq_any(bid_ids))
        .order((bid_scores::bid_id, bid_scores::criterion))
        .select(ScoreRow::as_select())
        .load(conn)?)
}

/// The declines of a competition, by provider.
pub fn declines_of(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Vec<DeclineRow>, DbError> {
    Ok(invitation_declines::table
        .filter(invitation_declines::competition_id.eq(competition_id))
        .order(invitation_declines::provider_id)
        .select(DeclineRow::as_select())
        .load(conn)?)
}

/// Records (or replaces) a provider's decline.
pub fn put_decline(conn: &mut DbConnection, row: &DeclineRow) -> Result<(), DbError> {
    delete_declines(conn, &row.competition_id, Some(&row.provider_id))?;
    diesel::insert_into(invitation_declines::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

/// Deletes the declines of a competition: one provider's, or (`None`) everyone's.
pub fn delete_declines(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
    provider_id: Option<&str>,
) -> Result<(), DbError> {
    let mut q = diesel::delete(invitation_declines::table)
        .filter(invitation_declines::competition_id.eq(competition_id))
        .into_boxed();
    if let Some(p) = provider_id {
        q = q.filter(invitation_declines::provider_id.eq(p));
    }
    q.execute(conn)?;
    Ok(())
}

/// Deletes a bid and its marks.
pub fn delete_bid(conn: &mut DbConnection, bid_id: &BidId) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.filter(bid_scores::bid_id.eq(bid_id))).execute(conn)?;
    diesel::delete(bids::table.find(bid_id)).execute(conn)?;
    Ok(())
}

/// Sets (replaces) a mark.
pub fn put_score(conn: &mut DbConnection, row: &ScoreRow) -> Result<(), DbError> {
    diesel::delete(bid_scores::table.find((&row.bid_id, &row.criterion))).execute(conn)?;
    diesel::insert_into(bid_scores::table)
        .values(row)
        .execute(conn)?;
    Ok(())
}

pub fn direct_award(
    conn: &mut DbConnection,
    competition_id: &CompetitionId,
) -> Result<Option<DirectAwardRow>, DbError> {
    Ok(direct_awards::table
        .find(competition_id)
        .select(DirectAwardRow::as_select())
        .first(conn)
        .optional()?)
}
