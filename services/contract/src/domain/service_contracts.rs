//! Service contracts a partnership's lead commissioner lets for all its partners (Sefton
//! for AIM: access to records, counselling for birth parents, letterbox, lifebooks…). No I/O.
//!
//! Decisions:
//! * Only the partnership's lead commissioner (a commissioner of that council) lets, varies,
//!   extends and terminates them; staff of every member council and the provider read them;
//!   anyone else gets 404.
//! * A contract is let as a `draft` and goes `live` with `POST …/go-live`, which emits
//!   `contract.service_contract_let` (what finance phases the value from). Where staff move
//!   under TUPE with Local Government Pension Scheme rights (`tupe_lgps`), an admission
//!   agreement must be signed and a bond be in place first: otherwise go-live is refused
//!   with 409 `/problems/lgps-admission-required`, whose `errors` name what is missing.
//! * Each extension option adds `extension_months` (default 12) from the day after the
//!   current end; with none left, 409 `/problems/no-extensions-left` (the view says
//!   `no_extensions_left: true` before anyone tries).
//! * Expiry alerts at `alert_months` before the end (default 9, 6 and 3 months): the sweep
//!   raises `contract.service_contract_expiring` once per lead time. When the sweep first
//!   sees a contract past several lead times at once (let late in its term), it raises the
//!   nearest one only: the earlier ones would say less. An extension starts the alerts again
//!   for the new end date.
//! * Variations and terminations keep their reason and dates in the contract's history,
//!   with the extensions, the pension arrangements and going live: what a Procurement Act
//!   contract change notice or termination notice needs. A variation changes the services,
//!   the description, or the value (`value_change_pence`, negative for a reduction).
//! * A value change is phased evenly by day from `effective_on` (within the term) to the end
//!   date as it stands at the variation, as finance phases the contract's own value. On a
//!   live contract it emits `contract.service_contract_varied` (one per variation, with the
//!   history entry's id); on a draft it changes the value the let will carry (no event). A
//!   reduction may take at most what is left to phase from `effective_on` (the contract's
//!   value, its extensions' and its earlier variations' phased on that day and after):
//!   otherwise 409 `/problems/reduction-exceeds-remaining`, whose `errors` name
//!   `/value_change_pence` (rule `within_remaining`). A 409, not a 422: the same request is
//!   sound on its own and may be allowed on another day or before another variation; what
//!   it breaks is the contract's state, as with `no-extensions-left`. A change that would
//!   take the contract's value past [`MAX_CONTRACT_VALUE`] is a 422 (`range`).
//! * Money bounds: a contract's value, each extension's added value, each variation's change
//!   (either way) and a pension bond are each at most [`MAX_CONTRACT_VALUE`]
//!   (£1,000,000,000.00), and so is the contract's value after every extension and variation
//!   (summed with checked arithmetic; over it, 422 `range` naming the field of the change). A
//!   partnership's largest service contracts are worth a few million pounds; the bound is
//!   far above them and, as the whole value is phased over the term however long, keeps every
//!   figure finance derives from a contract (a day's share, a year's, the total) about eight
//!   orders of magnitude inside `i64`, so the contract service never emits a value finance
//!   cannot cost.

use chrono::{Datelike, Days, Months, NaiveDate, NaiveDateTime};
use hub_platform::{
    FieldError, Pence, Principal, Problem, Role,
    directory::{self, Partnership},
    http::Validate,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::Visible;
use crate::ids::{HistoryId, ServiceContractId};

/// A service contract: its terms, where it is in its life, its pension arrangements, and the
/// expiry alert last raised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceContract {
    pub id: ServiceContractId,
    pub partnership: String,
    /// The lead commissioner that let it for all partners.
    pub lead_council: String,
    pub provider_id: String,
    pub title: String,
    pub services: Vec<String>,
    /// Value over the term, extensions and variations included.
    pub value_pence: Pence,
    pub start_date: NaiveDate,
    /// The last day, after any extensions.
    pub end_date: NaiveDate,
    pub original_end_date: NaiveDate,
    pub budget_line: String,
    pub extensions_allowed: i32,
    pub extensions_used: i32,
    pub extension_months: i32,
    /// The alert lead times as let (see [`ServiceContract::alerts_longest_first`]).
    pub alert_months: Vec<u16>,
    /// The nearest alert raised for the current end date.
    pub alerted_months: Option<i32>,
    pub tupe_lgps: bool,
    pub admission_agreement: AgreementStatus,
    pub admission_agreement_signed_on: Option<NaiveDate>,
    pub bond: BondStatus,
    pub bond_amount_pence: Option<Pence>,
    pub status: Status,
    pub went_live_by: Option<String>,
    pub went_live_at: Option<NaiveDateTime>,
    pub terminated_on: Option<NaiveDate>,
    pub termination_reason: Option<String>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    /// Raised at every change: the contract's `ETag`.
    pub revision: i64,
}

impl ServiceContract {
    /// The draft `who` (the partnership's lead commissioner) lets on `input`, for
    /// `partnership` (the one `input` names), at `now`.
    pub fn let_by(
        who: &Principal,
        input: &NewServiceContract,
        partnership: &Partnership,
        now: NaiveDateTime,
    ) -> Self {
        let (agreement, bond) = if input.tupe_lgps {
            (AgreementStatus::Required, BondStatus::Required)
        } else {
            (AgreementStatus::NotRequired, BondStatus::NotRequired)
        };
        Self {
            id: ServiceContractId::new(),
            partnership: partnership.code.to_owned(),
            lead_council: who.org.clone(),
            provider_id: input.provider_id.trim().to_owned(),
            title: input.title.trim().to_owned(),
            services: input.services.clone(),
            value_pence: Pence(input.value_pence),
            start_date: input.start_date,
            end_date: input.end_date,
            original_end_date: input.end_date,
            budget_line: input.budget_line.clone(),
            extensions_allowed: input.extensions_allowed as i32,
            extensions_used: 0,
            extension_months: input.extension_months() as i32,
            alert_months: input.alert_months(),
            alerted_months: None,
            tupe_lgps: input.tupe_lgps,
            admission_agreement: agreement,
            admission_agreement_signed_on: None,
            bond,
            bond_amount_pence: None,
            status: Status::Draft,
            went_live_by: None,
            went_live_at: None,
            terminated_on: None,
            termination_reason: None,
            created_by: who.sub.clone(),
            created_at: now,
            revision: 1,
        }
    }

    /// The alert lead times, longest first.
    pub fn alerts_longest_first(&self) -> Vec<u16> {
        let mut m = self.alert_months.clone();
        m.sort_unstable_by(|a, b| b.cmp(a));
        m
    }

    pub fn extensions_left(&self) -> u16 {
        (self.extensions_allowed - self.extensions_used).max(0) as u16
    }

    pub fn is(&self, status: Status) -> bool {
        self.status == status
    }

    /// `draft`, `live`, `expired` (live, past its end on `today`) or `terminated`.
    pub fn state(&self, today: NaiveDate) -> String {
        if self.status == Status::Live && today > self.end_date {
            "expired".to_owned()
        } else {
            self.status.to_string()
        }
    }

    /// 422 naming `field` unless `day` falls within the contract's term.
    pub fn within_term(&self, field: &str, day: NaiveDate) -> Result<(), Problem> {
        if day < self.start_date || day > self.end_date {
            return Err(Problem::invalid(
                field,
                "within_term",
                format!(
                    "the contract runs from {} to {}",
                    self.start_date, self.end_date
                ),
            ));
        }
        Ok(())
    }

    /// The pension arrangements after `update`: what it leaves out stays as it was; a
    /// signing day only for a signed agreement, a bond amount only for a bond in place. 409
    /// `/problems/pensions-not-required` unless staff transfer with LGPS rights.
    pub fn pensions_after(&self, update: &PensionsUpdate) -> Result<Pensions, Problem> {
        if !self.tupe_lgps {
            return Err(Problem::conflict(
                "pensions-not-required",
                "no staff transfer with LGPS pension rights under this contract",
            ));
        }
        let agreement = update
            .admission_agreement
            .unwrap_or(self.admission_agreement);
        let signed_on = if agreement == AgreementStatus::Signed {
            update
                .admission_agreement_signed_on
                .or(self.admission_agreement_signed_on)
        } else {
            None
        };
        let bond = update.bond.unwrap_or(self.bond);
        let bond_amount = if bond == BondStatus::InPlace {
            update
                .bond_amount_pence
                .map(Pence)
                .or(self.bond_amount_pence)
        } else {
            None
        };
        Ok(Pensions {
            agreement,
            signed_on,
            bond,
            bond_amount,
        })
    }
}

/// See [`may_see`].
impl Visible for ServiceContract {
    const WHAT: &'static str = "service contract";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.partnership, &self.provider_id)
    }
}

/// A contract's pension arrangements (TUPE staff with LGPS rights).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pensions {
    pub agreement: AgreementStatus,
    pub signed_on: Option<NaiveDate>,
    pub bond: BondStatus,
    pub bond_amount: Option<Pence>,
}

/// One entry of a contract's history: what happened, by whom, and what it did to the value.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryEntry {
    /// A variation's is the `variation_id` of its `contract.service_contract_varied`.
    pub id: HistoryId,
    pub contract_id: ServiceContractId,
    pub kind: HistoryKind,
    pub effective_on: Option<NaiveDate>,
    pub reason: Option<String>,
    pub detail: serde_json::Value,
    pub actor: String,
    pub org: String,
    pub at: NaiveDateTime,
    /// What the entry adds to the contract's value (negative: takes from it): going live, the
    /// value; an extension, its added value; a variation, its change.
    pub value_change_pence: Option<Pence>,
    /// The last day `value_change_pence` is phased to, by day from `effective_on`; none for a
    /// variation of a draft (its change went into the value the contract is let at).
    pub phased_to: Option<NaiveDate>,
}

/// Months before the end at which expiry alerts are raised, unless the contract says.
pub const DEFAULT_ALERT_MONTHS: [u16; 3] = [9, 6, 3];

/// Months an extension option adds, unless the contract says.
pub const DEFAULT_EXTENSION_MONTHS: u16 = 12;

hub_platform::code_enum! {
/// Where a service contract is in its life.
pub enum ServiceContractStatus {
    /// Let, not yet in force (pension arrangements may still be outstanding).
    Draft,
    Live,
    Terminated,
}
}

/// [`ServiceContractStatus`] by its short name in this service (the schema name is the long one, unique
/// across the platform).
pub type Status = ServiceContractStatus;

impl Status {
    /// Draft → live.
    pub fn go_live(self) -> Result<Self, Problem> {
        self.must_be(Self::Draft).map(|()| Self::Live)
    }

    /// Only a live contract uses an extension option.
    pub fn extend(self) -> Result<(), Problem> {
        self.must_be(Self::Live)
    }

    /// Live → terminated.
    pub fn terminate(self) -> Result<Self, Problem> {
        self.must_be(Self::Live).map(|()| Self::Terminated)
    }

    /// A draft or a live contract is varied; a terminated one is not.
    pub fn vary(self) -> Result<(), Problem> {
        match self {
            Self::Terminated => Err(not_in(Self::Live, self)),
            _ => Ok(()),
        }
    }

    fn must_be(self, wanted: Self) -> Result<(), Problem> {
        if self == wanted {
            return Ok(());
        }
        Err(not_in(wanted, self))
    }
}

/// 409: the contract is `is`, and the change needs it `wanted`.
pub fn not_in(wanted: Status, is: Status) -> Problem {
    let slug = match wanted {
        Status::Draft => "contract-not-draft",
        _ => "contract-not-live",
    };
    Problem::conflict(slug, format!("the service contract is {is}, not {wanted}"))
}

hub_platform::code_enum! {
/// What an entry of a contract's history records.
pub enum HistoryKind {
    Let,
    Pensions,
    Live,
    Variation,
    Extension,
    Termination,
}
}

hub_platform::code_enum! {
/// An LGPS admission agreement's progress.
pub enum AgreementStatus {
    NotRequired,
    Required,
    InProgress,
    Signed,
}
}

hub_platform::code_enum! {
/// A pension bond's progress.
pub enum BondStatus {
    NotRequired,
    Required,
    InProgress,
    InPlace,
}
}

/// `access_to_records`, `letterbox`: lower case letters, digits and underscores.
pub fn is_code(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

fn check_services(services: &[String], e: &mut Vec<FieldError>) {
    if services.is_empty() {
        e.push(FieldError::new(
            "/services",
            "min_items",
            "name at least one service, e.g. access_to_records",
        ));
    }
    for (i, s) in services.iter().enumerate() {
        if !is_code(s) {
            e.push(FieldError::new(
                format!("/services/{i}"),
                "format",
                "a service code: lower case letters, digits and underscores",
            ));
        } else if services[..i].contains(s) {
            e.push(FieldError::new(
                format!("/services/{i}"),
                "unique",
                "listed twice",
            ));
        }
    }
}

fn required_text(field: &str, value: &str, what: &str, e: &mut Vec<FieldError>) {
    if value.trim().is_empty() {
        e.push(FieldError::new(field, "required", what));
    }
}

/// A request to let a service contract (as a draft).
/// The most a service contract may be worth over its whole life (its value with every
/// extension and variation), and the most one change to it or a pension bond may be.
pub const MAX_CONTRACT_VALUE: Pence = Pence::gbp(1_000_000_000, 0);

/// `amount` at most [`MAX_CONTRACT_VALUE`] either way (its other rules are the caller's).
fn contract_amount_error(field: &str, amount: i64) -> Option<FieldError> {
    Pence(amount)
        .check_range(field, Pence(-MAX_CONTRACT_VALUE.0), MAX_CONTRACT_VALUE)
        .err()
}

/// The contract's value after a change of `change` (an extension's added value, a
/// variation's change) to `value`: summed without wrapping and at most
/// [`MAX_CONTRACT_VALUE`], else a `range` error naming `field`.
pub fn value_after(value: i64, change: i64, field: &str) -> Result<i64, FieldError> {
    Pence(value)
        .checked_add(Pence(change))
        .unwrap_or(Pence(i64::MAX))
        .check_range(field, Pence(i64::MIN), MAX_CONTRACT_VALUE)
        .map(|v| v.0)
        .map_err(|_| {
            FieldError::new(
                field,
                "range",
                format!(
                    "the contract's value would be more than {} (in pence: {})",
                    MAX_CONTRACT_VALUE, MAX_CONTRACT_VALUE.0
                ),
            )
        })
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewServiceContract {
    /// The partnership it is let for; the caller must be its lead commissioner.
    pub partnership: String,
    pub provider_id: String,
    pub title: String,
    /// Service codes, e.g. `access_to_records`, `birth_parent_counselling`, `letterbox`,
    /// `lifebooks`.
    pub services: Vec<String>,
    /// The contract's value over its term, in pence.
    pub value_pence: i64,
    pub start_date: NaiveDate,
    /// The last day of the term.
    pub end_date: NaiveDate,
    /// The pooled-budget line it is charged to, e.g. `commissioned_adoption_support`.
    pub budget_line: String,
    /// Extension options (0–10).
    #[serde(default)]
    pub extensions_allowed: u16,
    /// Months each extension adds (1–60; default 12).
    #[serde(default)]
    pub extension_months: Option<u16>,
    /// Months before the end to raise expiry alerts (each 1–36; default 9, 6 and 3; `[]`
    /// for none).
    #[serde(default)]
    pub alert_months: Option<Vec<u16>>,
    /// Staff transfer under TUPE with Local Government Pension Scheme rights: the provider
    /// must sign an admission agreement and put a bond in place before the contract goes live.
    #[serde(default)]
    pub tupe_lgps: bool,
}

impl Validate for NewServiceContract {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if directory::partnership(&self.partnership).is_none() {
            e.push(FieldError::new(
                "/partnership",
                "one_of",
                "not a known partnership (AIM, LCR-PPA, D2N2, WMAS)",
            ));
        }
        required_text(
            "/provider_id",
            &self.provider_id,
            "name the provider",
            &mut e,
        );
        required_text("/title", &self.title, "give the contract a title", &mut e);
        check_services(&self.services, &mut e);
        if self.value_pence <= 0 {
            e.push(FieldError::new(
                "/value_pence",
                "positive",
                "the contract's value in pence, above zero",
            ));
        }
        e.extend(contract_amount_error("/value_pence", self.value_pence));
        if self.end_date <= self.start_date {
            e.push(FieldError::new(
                "/end_date",
                "after_start",
                "the end date must be after the start date",
            ));
        }
        if !is_code(&self.budget_line) {
            e.push(FieldError::new(
                "/budget_line",
                "format",
                "a budget line code, e.g. commissioned_adoption_support",
            ));
        }
        if self.extensions_allowed > 10 {
            e.push(FieldError::new(
                "/extensions_allowed",
                "range",
                "at most 10 extension options",
            ));
        }
        if let Some(m) = self.extension_months
            && !(1..=60).contains(&m)
        {
            e.push(FieldError::new(
                "/extension_months",
                "range",
                "an extension adds 1 to 60 months",
            ));
        }
        if let Some(alerts) = &self.alert_months {
            for (i, m) in alerts.iter().enumerate() {
                if !(1..=36).contains(m) {
                    e.push(FieldError::new(
                        format!("/alert_months/{i}"),
                        "range",
                        "1 to 36 months before the end",
                    ));
                } else if alerts[..i].contains(m) {
                    e.push(FieldError::new(
                        format!("/alert_months/{i}"),
                        "unique",
                        "listed twice",
                    ));
                }
            }
        }
        e
    }
}

impl NewServiceContract {
    pub fn extension_months(&self) -> u16 {
        self.extension_months.unwrap_or(DEFAULT_EXTENSION_MONTHS)
    }

    /// The alert lead times, longest first.
    pub fn alert_months(&self) -> Vec<u16> {
        let mut m = self
            .alert_months
            .clone()
            .unwrap_or_else(|| DEFAULT_ALERT_MONTHS.to_vec());
        m.sort_unstable_by(|a, b| b.cmp(a));
        m
    }
}

/// `PUT /v1/contracts/services/{id}/pensions`: the LGPS admission agreement and bond.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PensionsUpdate {
    #[serde(default)]
    pub admission_agreement: Option<AgreementStatus>,
    /// The day the admission agreement was signed (required with `signed`).
    #[serde(default)]
    pub admission_agreement_signed_on: Option<NaiveDate>,
    #[serde(default)]
    pub bond: Option<BondStatus>,
    /// The bond's amount (required with `in_place`).
    #[serde(default)]
    pub bond_amount_pence: Option<i64>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Validate for PensionsUpdate {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if self.admission_agreement.is_none() && self.bond.is_none() {
            e.push(FieldError::new(
                "/admission_agreement",
                "required",
                "give the admission agreement's or the bond's status",
            ));
        }
        for (field, not_required) in [
            (
                "/admission_agreement",
                self.admission_agreement == Some(AgreementStatus::NotRequired),
            ),
            ("/bond", self.bond == Some(BondStatus::NotRequired)),
        ] {
            if not_required {
                e.push(FieldError::new(
                    field,
                    "one_of",
                    "required, in_progress or signed / in_place: the contract has TUPE staff with LGPS rights",
                ));
            }
        }
        if self.admission_agreement == Some(AgreementStatus::Signed)
            && self.admission_agreement_signed_on.is_none()
        {
            e.push(FieldError::new(
                "/admission_agreement_signed_on",
                "required",
                "the day the admission agreement was signed",
            ));
        }
        if self.bond == Some(BondStatus::InPlace) && self.bond_amount_pence.is_none_or(|p| p <= 0) {
            e.push(FieldError::new(
                "/bond_amount_pence",
                "required",
                "the bond's amount in pence, above zero",
            ));
        }
        if let Some(p) = self.bond_amount_pence {
            e.extend(contract_amount_error("/bond_amount_pence", p));
        }
        e
    }
}

/// What is missing before a contract with TUPE staff with LGPS rights may go live.
pub fn pension_gaps(
    tupe_lgps: bool,
    agreement: AgreementStatus,
    bond: BondStatus,
) -> Vec<FieldError> {
    let mut gaps = Vec::new();
    if !tupe_lgps {
        return gaps;
    }
    if agreement != AgreementStatus::Signed {
        gaps.push(FieldError::new(
            "admission_agreement",
            "signed",
            format!("the LGPS admission agreement is {agreement}, not signed"),
        ));
    }
    if bond != BondStatus::InPlace {
        gaps.push(FieldError::new(
            "bond",
            "in_place",
            format!("the pension bond is {bond}, not in place"),
        ));
    }
    gaps
}

/// `POST /v1/contracts/services/{id}/extend`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendService {
    /// What the extension adds to the contract's value (phased over the extension).
    pub added_value_pence: i64,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Validate for ExtendService {
    fn validate(&self) -> Vec<FieldError> {
        if self.added_value_pence < 0 {
            vec![FieldError::new(
                "/added_value_pence",
                "min",
                "zero or more pence",
            )]
        } else {
            contract_amount_error("/added_value_pence", self.added_value_pence)
                .into_iter()
                .collect()
        }
    }
}

/// `POST /v1/contracts/services/{id}/variations`: a change to a contract in force or let.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = NewServiceContractVariation)]
#[serde(deny_unknown_fields)]
pub struct NewVariation {
    /// From when the change applies.
    pub effective_on: NaiveDate,
    /// Why (the grounds for the modification).
    pub reason: String,
    /// What changes.
    pub description: String,
    /// The services from then on, when they change.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    /// Pence added to the contract's value (negative: taken from it), phased evenly by day
    /// from `effective_on` to the contract's end date as it stands now. Not zero.
    #[serde(default)]
    pub value_change_pence: Option<i64>,
}

impl Validate for NewVariation {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        required_text(
            "/reason",
            &self.reason,
            "say why the contract changes",
            &mut e,
        );
        required_text(
            "/description",
            &self.description,
            "say what changes",
            &mut e,
        );
        if let Some(s) = &self.services {
            check_services(s, &mut e);
        }
        if self.value_change_pence == Some(0) {
            e.push(FieldError::new(
                "/value_change_pence",
                "non_zero",
                "pence added to the value (negative to take them from it), not zero; leave it out when the value does not change",
            ));
        }
        if let Some(change) = self.value_change_pence {
            e.extend(contract_amount_error("/value_change_pence", change));
        }
        e
    }
}

/// A value phased evenly by day over `from ..= to`: a live contract's value over its term,
/// an extension's over the extension, a variation's change to the end date it was phased to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tranche {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub value_pence: i64,
}

/// What `tranches` phase on `day` and after. Each tranche is phased as finance phases it:
/// split over its days by largest remainder, the odd pennies (of the value's sign) on the
/// earliest days, so day `i` of `n` gets `value / n`, plus one while `i < |value % n|` (the
/// same as `Pence::split` with a weight of one a day, without a vector of days).
pub fn left_to_phase(tranches: &[Tranche], day: NaiveDate) -> i64 {
    tranches
        .iter()
        .map(|t| match t.daily() {
            Some((n, q, r)) if day <= t.to => {
                let before = (day - t.from).num_days().clamp(0, n);
                t.value_pence - (q * before + r.signum() * r.abs().min(before))
            }
            _ => 0,
        })
        .sum()
}

impl Tranche {
    /// How the value is split by day: its `n` days get `q` each, and the first `|r|` of them
    /// a penny more of `r`'s sign. None for a tranche without days.
    fn daily(&self) -> Option<(i64, i64, i64)> {
        let n = (self.to - self.from).num_days() + 1;
        (n > 0).then(|| (n, self.value_pence / n, self.value_pence % n))
    }
}

/// What `t` phases on `day` (as [`left_to_phase`] splits it: `value / n` a day, the odd
/// pennies on the earliest days); nothing outside its days.
fn day_share(t: &Tranche, day: NaiveDate) -> i64 {
    match t.daily() {
        Some((_, q, r)) if (t.from..=t.to).contains(&day) => {
            q + if (day - t.from).num_days() < r.abs() {
                r.signum()
            } else {
                0
            }
        }
        _ => 0,
    }
}

/// The first day on which `tranches` and `change` together would phase less than nothing
/// (a reduction spread evenly over days some of which cost less than its daily share, e.g. a
/// cheaper extension), if any.
pub fn first_negative_day(tranches: &[Tranche], change: &Tranche) -> Option<NaiveDate> {
    change
        .from
        .iter_days()
        .take_while(|d| *d <= change.to)
        .find(|day| {
            day_share(change, *day) + tranches.iter().map(|t| day_share(t, *day)).sum::<i64>() < 0
        })
}

/// `POST /v1/contracts/services/{id}/terminate`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[schema(as = ServiceContractTermination)]
#[serde(deny_unknown_fields)]
pub struct Termination {
    /// The last day of the contract.
    pub terminated_on: NaiveDate,
    pub reason: String,
    /// When notice was given (not after `terminated_on`).
    #[serde(default)]
    pub notice_given_on: Option<NaiveDate>,
}

impl Validate for Termination {
    fn validate(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        required_text("/reason", &self.reason, "say why the contract ends", &mut e);
        if let Some(n) = self.notice_given_on
            && n > self.terminated_on
        {
            e.push(FieldError::new(
                "/notice_given_on",
                "before_end",
                "notice is given on or before the termination date",
            ));
        }
        e
    }
}

/// `POST /v1/contracts/services/{id}/go-live`: no body, or `{}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GoLive {}

impl Validate for GoLive {}

/// `months` calendar months before `end` (clamped to the month's last day).
pub fn months_before(end: NaiveDate, months: u16) -> NaiveDate {
    end.checked_sub_months(Months::new(months as u32))
        .expect("a date within chrono's range")
}

/// The last day after an extension of `months` months: the day before the `months`-month
/// anniversary of the day after the current end (31 March 2020 + 12 → 31 March 2021).
pub fn extended_end(end: NaiveDate, months: u16) -> NaiveDate {
    let next = end + Days::new(1);
    // The anniversary of a day a month lacks is the first of the month after.
    let target = next
        .checked_add_months(Months::new(months as u32))
        .expect("a date within chrono's range");
    let anniversary = if target.day() == next.day() {
        target
    } else {
        target + Days::new(1)
    };
    anniversary - Days::new(1)
}

/// The lead time (months) of the alert due on `today` that has not been raised yet: the
/// nearest lead time reached, if it is nearer than `raised` (the last one raised for this
/// end date). `alerts` is longest first. Nothing once the contract has ended.
pub fn alert_due(
    end: NaiveDate,
    alerts: &[u16],
    raised: Option<u16>,
    today: NaiveDate,
) -> Option<u16> {
    if today > end {
        return None;
    }
    let nearest = alerts
        .iter()
        .copied()
        .filter(|m| today >= months_before(end, *m))
        .min()?;
    match raised {
        Some(r) if r <= nearest => None,
        _ => Some(nearest),
    }
}

/// Who may read a service contract: staff of the partnership's member councils, and the
/// provider. Anyone else gets 404.
pub fn may_see(who: &Principal, partnership: &str, provider_id: &str) -> bool {
    super::blocks::may_see(who, partnership, provider_id)
}

/// Which service contracts a caller's lists are narrowed to: as block contracts.
pub use super::blocks::listed_for;

/// Whether `who` may let, vary, extend or terminate the contracts of `lead_council`: its
/// commissioner. `Err` is the reason to refuse with (403).
pub fn may_manage(who: &Principal, lead_council: &str) -> Result<(), String> {
    if who.has(Role::Commissioner) && !who.is_provider() && who.org == lead_council {
        Ok(())
    } else {
        Err(format!(
            "only the lead commissioner ({lead_council}) manages the partnership's service contracts"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn a_pensions_update_keeps_what_it_leaves_out_and_drops_what_no_longer_applies() {
        let who = Principal {
            sub: "lead".into(),
            org: "E08000014".into(),
            roles: [Role::Commissioner].into_iter().collect(),
        };
        let input: NewServiceContract = serde_json::from_value(serde_json::json!({
            "partnership": "AIM", "provider_id": "prov-a", "title": "Letterbox",
            "services": ["letterbox"], "value_pence": 100_000, "start_date": "2026-04-01",
            "end_date": "2028-03-31", "budget_line": "commissioned_adoption_support",
            "tupe_lgps": true,
        }))
        .unwrap();
        let aim = directory::partnership("AIM").unwrap();
        let mut c = ServiceContract::let_by(&who, &input, aim, d(2026, 1, 5).into());
        assert_eq!(
            (c.admission_agreement, c.bond),
            (AgreementStatus::Required, BondStatus::Required)
        );
        let update = |v| serde_json::from_value::<PensionsUpdate>(v).unwrap();
        let p = c
            .pensions_after(&update(serde_json::json!({
                "admission_agreement": "signed", "admission_agreement_signed_on": "2026-02-01",
                "bond": "in_place", "bond_amount_pence": 5_000,
            })))
            .unwrap();
        assert_eq!(p.signed_on, Some(d(2026, 2, 1)));
        assert_eq!(p.bond_amount, Some(Pence(5_000)));
        (c.admission_agreement, c.admission_agreement_signed_on) = (p.agreement, p.signed_on);
        (c.bond, c.bond_amount_pence) = (p.bond, p.bond_amount);
        // Only the bond changes: the signed agreement stands; a bond no longer in place has no amount.
        let p = c
            .pensions_after(&update(serde_json::json!({ "bond": "in_progress" })))
            .unwrap();
        assert_eq!(
            (p.agreement, p.signed_on),
            (AgreementStatus::Signed, Some(d(2026, 2, 1)))
        );
        assert_eq!((p.bond, p.bond_amount), (BondStatus::InProgress, None));
        c.tupe_lgps = false;
        let refused = c
            .pensions_after(&update(serde_json::json!({})))
            .unwrap_err();
        assert_eq!(refused.status, 409);
    }

    #[test]
    fn alerts_come_at_9_6_and_3_months_once_each() {
        // AIM's contracts ran 1 April 2018 – 31 March 2020.
        let end = d(2020, 3, 31);
        let alerts = [9, 6, 3];
        assert_eq!(months_before(end, 9), d(2019, 6, 30));
        assert_eq!(months_before(end, 6), d(2019, 9, 30));
        assert_eq!(months_before(end, 3), d(2019, 12, 31));
        assert_eq!(alert_due(end, &alerts, None, d(2019, 6, 29)), None);
        assert_eq!(alert_due(end, &alerts, None, d(2019, 6, 30)), Some(9));
        assert_eq!(alert_due(end, &alerts, Some(9), d(2019, 7, 1)), None);
        assert_eq!(alert_due(end, &alerts, Some(9), d(2019, 9, 30)), Some(6));
        assert_eq!(alert_due(end, &alerts, Some(6), d(2019, 12, 31)), Some(3));
        assert_eq!(alert_due(end, &alerts, Some(3), d(2020, 3, 1)), None);
        // Seen late: only the nearest lead time is raised.
        assert_eq!(alert_due(end, &alerts, None, d(2019, 11, 1)), Some(6));
        // After the end, nothing.
        assert_eq!(alert_due(end, &alerts, None, d(2020, 4, 1)), None);
        assert_eq!(alert_due(end, &[], None, d(2020, 3, 1)), None);
    }

    #[test]
    fn extensions_run_to_the_day_before_the_anniversary() {
        assert_eq!(extended_end(d(2020, 3, 31), 12), d(2021, 3, 31));
        assert_eq!(extended_end(d(2020, 3, 31), 6), d(2020, 9, 30));
        assert_eq!(extended_end(d(2020, 1, 30), 1), d(2020, 2, 29));
        assert_eq!(extended_end(d(2019, 1, 30), 1), d(2019, 2, 28));
    }

    #[test]
    fn going_live_needs_the_admission_agreement_and_the_bond() {
        assert!(
            pension_gaps(false, AgreementStatus::NotRequired, BondStatus::NotRequired).is_empty()
        );
        let gaps = pension_gaps(true, AgreementStatus::InProgress, BondStatus::Required);
        assert_eq!(
            gaps.iter()
                .map(|g| (g.field.as_str(), g.rule.as_str()))
                .collect::<Vec<_>>(),
            vec![("admission_agreement", "signed"), ("bond", "in_place")]
        );
        assert_eq!(
            pension_gaps(true, AgreementStatus::Signed, BondStatus::Required).len(),
            1
        );
        assert!(pension_gaps(true, AgreementStatus::Signed, BondStatus::InPlace).is_empty());
    }

    #[test]
    fn contract_values_are_bounded_and_summed_without_wrapping() {
        let max = MAX_CONTRACT_VALUE.0;
        let letting = |value: i64| -> NewServiceContract {
            serde_json::from_value(serde_json::json!({
                "partnership": "AIM", "provider_id": "prov-adoption-support", "title": "Adoption support",
                "services": ["letterbox"], "value_pence": value, "start_date": "2018-04-01",
                "end_date": "2020-03-31", "budget_line": "commissioned_adoption_support"
            }))
            .unwrap()
        };
        let rules = |errors: Vec<FieldError>| -> Vec<(String, String)> {
            errors.into_iter().map(|e| (e.field, e.rule)).collect()
        };
        assert!(letting(max).validate().is_empty());
        assert_eq!(
            rules(letting(i64::MAX).validate()),
            [("/value_pence".into(), "range".into())]
        );
        let extend = ExtendService {
            added_value_pence: i64::MAX,
            reason: None,
        };
        assert_eq!(
            rules(extend.validate()),
            [("/added_value_pence".into(), "range".into())]
        );
        // A change within its own bound that takes the value past the contract's bound, or
        // past i64 (which wrapped before), is refused naming the change's field.
        assert_eq!(value_after(max - 10, 10, "/added_value_pence"), Ok(max));
        assert_eq!(value_after(max, -max, "/value_change_pence"), Ok(0));
        for (value, change) in [(max, 1), (i64::MAX, 1), (1, i64::MAX)] {
            let e = value_after(value, change, "/value_change_pence").unwrap_err();
            assert_eq!(
                (e.field.as_str(), e.rule.as_str()),
                ("/value_change_pence", "range")
            );
        }
    }

    #[test]
    fn letting_requests_are_checked() {
        let ok: NewServiceContract = serde_json::from_value(serde_json::json!({
            "partnership": "AIM", "provider_id": "prov-adoption-support", "title": "Adoption support",
            "services": ["access_to_records", "birth_parent_counselling", "letterbox"],
            "value_pence": 24_000_000, "start_date": "2018-04-01", "end_date": "2020-03-31",
            "budget_line": "commissioned_adoption_support", "tupe_lgps": true
        }))
        .unwrap();
        assert!(ok.validate().is_empty());
        assert_eq!(ok.alert_months(), vec![9, 6, 3]);
        assert_eq!(ok.extension_months(), 12);
        let bad: NewServiceContract = serde_json::from_value(serde_json::json!({
            "partnership": "AIM", "provider_id": "p", "title": " ",
            "services": ["Letterbox", "letterbox", "letterbox"], "value_pence": 0,
            "start_date": "2020-04-01", "end_date": "2020-03-31", "budget_line": "Adoption Support",
            "alert_months": [9, 0, 9]
        }))
        .unwrap();
        let rules: Vec<(String, String)> = bad
            .validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        for expected in [
            ("/title", "required"),
            ("/services/0", "format"),
            ("/services/2", "unique"),
            ("/value_pence", "positive"),
            ("/end_date", "after_start"),
            ("/budget_line", "format"),
            ("/alert_months/1", "range"),
            ("/alert_months/2", "unique"),
        ] {
            assert!(
                rules.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} in {rules:?}"
            );
        }
    }

    #[test]
    fn what_is_left_to_phase_is_what_the_days_from_then_get() {
        use hub_platform::Pence;
        // Each day's share as `Pence::split` gives it, against the closed form, for values of
        // both signs with and without odd pennies.
        let from = d(2018, 4, 1);
        for value in [10_000_001, 365_000, -1_200_007, 5, -5, 0] {
            let t = Tranche {
                from,
                to: d(2018, 4, 30),
                value_pence: value,
            };
            let days = Pence(value).split(&[1; 30]);
            for k in 0..=31 {
                let day = from + Days::new(k);
                let expected: i64 = days.iter().skip(k as usize).map(|p| p.0).sum();
                assert_eq!(left_to_phase(&[t], day), expected, "{value} from day {k}");
            }
        }
        // £240,000 over 1 April 2018 – 31 March 2020 (731 days): 32,831p a day, the first 539
        // days a penny more; from 1 January 2020 (day 641) 91 days of 32,831p are left. A
        // +£12,000 variation from 15 October 2018 (534 days: 2,247p, the first 102 a penny
        // more) leaves 91 × 2,247p. A day before a tranche counts all of it.
        let term = Tranche {
            from,
            to: d(2020, 3, 31),
            value_pence: 24_000_000,
        };
        let varied = Tranche {
            from: d(2018, 10, 15),
            to: d(2020, 3, 31),
            value_pence: 1_200_000,
        };
        assert_eq!(left_to_phase(&[term], d(2020, 1, 1)), 91 * 32_831);
        assert_eq!(
            left_to_phase(&[term, varied], d(2020, 1, 1)),
            91 * 32_831 + 91 * 2_247
        );
        assert_eq!(left_to_phase(&[term, varied], from), 25_200_000);
        assert_eq!(left_to_phase(&[term], d(2020, 4, 1)), 0);
    }

    #[test]
    fn a_reduction_may_not_take_a_day_below_nothing() {
        // £240,000 over two years, then a cheap year's extension of £36,500 (100p a day).
        let term = Tranche {
            from: d(2018, 4, 1),
            to: d(2020, 3, 31),
            value_pence: 24_000_000,
        };
        let extension = Tranche {
            from: d(2020, 4, 1),
            to: d(2021, 3, 31),
            value_pence: 36_500,
        };
        let cut = |value: i64| Tranche {
            from: d(2020, 1, 1),
            to: d(2021, 3, 31),
            value_pence: value,
        };
        // 456 days from 1 January 2020: 91 × 32,831p of the term, 365 × 100p of the extension.
        let left = left_to_phase(&[term, extension], d(2020, 1, 1));
        assert_eq!(left, 91 * 32_831 + 36_500);
        // Taking all of it evenly would take 6,632p a day from days worth 100p.
        assert_eq!(
            first_negative_day(&[term, extension], &cut(-left)),
            Some(d(2020, 4, 1))
        );
        // 100p a day over the 456 days fits, and the odd pennies go on the earliest days: on
        // the 91 dear days of the term, 91 more fit; the 92nd lands on 1 April 2020.
        assert_eq!(first_negative_day(&[term, extension], &cut(-45_600)), None);
        assert_eq!(first_negative_day(&[term, extension], &cut(-45_691)), None);
        assert_eq!(
            first_negative_day(&[term, extension], &cut(-45_692)),
            Some(d(2020, 4, 1))
        );
        assert_eq!(first_negative_day(&[term, extension], &cut(1_000)), None);
        for day in d(2018, 4, 1).iter_days().take(800) {
            let shares: i64 = [term, extension].iter().map(|t| day_share(t, day)).sum();
            assert!(shares >= 0);
        }
    }

    #[test]
    fn variations_are_checked() {
        let v = |change: serde_json::Value| -> Vec<(String, String)> {
            let v: NewVariation = serde_json::from_value(serde_json::json!({
                "effective_on": "2018-10-15", "reason": "demand", "description": "more sessions",
                "value_change_pence": change
            }))
            .unwrap();
            v.validate()
                .into_iter()
                .map(|e| (e.field, e.rule))
                .collect()
        };
        assert!(v(serde_json::json!(1_200_000)).is_empty());
        assert!(v(serde_json::json!(-1)).is_empty());
        assert!(v(serde_json::Value::Null).is_empty());
        assert_eq!(
            v(serde_json::json!(0)),
            vec![("/value_change_pence".to_owned(), "non_zero".to_owned())]
        );
    }

    #[test]
    fn pension_updates_are_checked() {
        let p: PensionsUpdate = serde_json::from_value(serde_json::json!({
            "admission_agreement": "signed", "bond": "in_place"
        }))
        .unwrap();
        let rules: Vec<String> = p.validate().into_iter().map(|e| e.field).collect();
        assert_eq!(
            rules,
            vec!["/admission_agreement_signed_on", "/bond_amount_pence"]
        );
    }
}
