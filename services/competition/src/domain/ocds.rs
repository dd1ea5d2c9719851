//! Open Contracting Data Standard (OCDS 1.1) export of a competition: the releases a council
//! publishes for one call-off. Pure mapping, no I/O: the API layer loads the rows, fills in an
//! [`OcdsInput`] and serves [`release_package`] as `application/json`.
//!
//! Depends only on `serde_json`, `chrono` and `uuid`, so the inputs are plain structs (no diesel
//! or API types); converting from the service's own types is the caller's job.
//!
//! # One contracting process per competition
//!
//! Each competition (mini-competition or direct award) is its own contracting process with its
//! own `ocid`: `{ocid prefix}-{competition id}`. The framework (or purchasing system) it calls
//! off from is another process, linked by `relatedProcesses` with `relationship: ["framework"]`,
//! `scheme: "ocid"` and the framework's ocid as `identifier` — the OCDS model of a framework's
//! second stage. The framework's ocid is the one it was published under elsewhere (for example
//! by the lead commissioner on a national notice service), or else `{prefix}-{framework id}`.
//!
//! The ocid prefix is registered by a publisher with the Open Contracting Partnership
//! (`ocds-` and six characters). None is registered for this platform yet, so
//! [`PLACEHOLDER_OCID_PREFIX`] (`ocds-hubdev`, deliberately not a registered prefix) stands in
//! until a council sets its own in configuration ([`Publisher::ocid_prefix`]).
//!
//! # Releases
//!
//! Releases are point-in-time and never change once published, so the package is the history:
//!
//! | competition | releases (id, tag, date) |
//! |---|---|
//! | open (bidding or evaluation) | `{id}-tender`, `["tender"]`, opened at; tender `active` |
//! | awarded | that, then `{id}-award`, `["award"]`, award date; tender `complete`, `awards[0]` |
//! | closed, no acceptable bid | that, then `{id}-closed`, `["tenderUpdate"]`; tender `unsuccessful` |
//! | closed, need withdrawn | that, then `{id}-closed`, `["tenderCancellation"]`; tender `cancelled` |
//! | direct award | one release `{id}-award`, `["tender", "award"]`: the process and its award at once |
//!
//! Who bid (`tender.tenderers`, `numberOfTenderers`, parties with role `tenderer`) appears only
//! in the release that ends bidding (award or closure), never while a competition is open.
//!
//! # Field mapping
//!
//! - `buyer`, `tender.procuringEntity`: the council that runs the call-off; one party with roles
//!   `buyer` and `procuringEntity`, its id the council's ONS GSS code. (No organisation-identifier
//!   scheme on org-id.guide carries GSS codes, so parties carry no `identifier`.)
//! - Providers: parties with the platform's provider id; roles `tenderer` (bid) and `supplier`
//!   (awarded). Providers that were invited but did not bid are not parties.
//! - `tender.procurementMethod`: `selective` for a mini-competition (only providers admitted to
//!   the lot may bid); `direct` for a direct award (method codelist: "awarded to a single supplier
//!   without competition"), with `procurementMethodRationale`.
//! - `tender.mainProcurementCategory`: `services`; `items[0]`: the placement, classified CPV
//!   `85311300` "Welfare services for children and young people", priced per week (UN/CEFACT
//!   unit `WEE`).
//! - `tender.awardCriteria`: `priceOnly` when price is the only scored criterion, `qualityOnly`
//!   when price is not scored, else `ratedCriteria`; `awardCriteriaDetails` lists gates and
//!   weights. Omitted for a direct award.
//! - `tender.tenderPeriod`: opened at → deadline, or when the commissioner closed bidding
//!   early.
//! - `awards[0].value`: the **annualised** value, weekly rate × 52 (as the seeds' block-contract
//!   sums do), in GBP; `awards[0].items[0]` has `quantity` 52 and `unit.value` the weekly rate,
//!   so quantity × unit value = award value. Amounts are JSON numbers in pounds (integer pence
//!   ÷ 100, which prints with at most two decimals). `contractPeriod.startDate` is the placement
//!   start at midnight UK time.
//!
//! # No child's personal data
//!
//! Only ids, codes, lot and framework names and money go out. The commissioner's free-text
//! justification of a direct award, and the reason for closing, are written about a child's
//! circumstances: they stay in the service and the export carries fixed wording instead.

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, Utc};
use hub_platform::Pence;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// The OCDS schema version the package declares.
pub const OCDS_VERSION: &str = "1.1";

/// Stand-in ocid prefix until a publisher registers its own with the Open Contracting
/// Partnership. Not a registered prefix (registered ones are `ocds-` and six hex-like
/// characters assigned by the OCP).
pub const PLACEHOLDER_OCID_PREFIX: &str = "ocds-hubdev";

/// CPV 2008 code for the placement: "Welfare services for children and young people".
pub const CPV_PLACEMENT: &str = "85311300";
const CPV_PLACEMENT_TITLE: &str = "Welfare services for children and young people";

/// Weeks in a year for annualised values (DESIGN.md: "a year of weeks is ×52").
pub const WEEKS_PER_YEAR: i64 = 52;

/// Who publishes the package. Static configuration, unlike the publication date and URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publisher {
    /// `publisher.name`: the council (or platform operator) responsible for the data.
    pub name: String,
    /// `ocds-` and the six characters the Open Contracting Partnership registered for this
    /// publisher; [`PLACEHOLDER_OCID_PREFIX`] until then.
    pub ocid_prefix: String,
    /// `license`: the licence's URI (e.g. the Open Government Licence v3.0), if declared.
    pub license: Option<String>,
}

impl Publisher {
    /// A publisher with the placeholder ocid prefix and no declared licence.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            ocid_prefix: PLACEHOLDER_OCID_PREFIX.to_owned(),
            license: None,
        }
    }
}

/// A council, by its ONS GSS code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Council {
    /// ONS GSS code, e.g. `E08000014` (Sefton).
    pub gss: String,
    pub name: String,
}

/// A provider, by the platform's provider id (e.g. `prov-care-assist`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    pub id: String,
    pub name: String,
}

/// What kind of arrangement the framework is (mirrors `domain::FrameworkKind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrangementKind {
    FrameworkAgreement,
    FlexiblePurchasingSystem,
    DynamicPurchasingSystem,
    ProviderPartnerAgreement,
}

impl ArrangementKind {
    fn label(self) -> &'static str {
        match self {
            Self::FrameworkAgreement => "framework agreement",
            Self::FlexiblePurchasingSystem => "flexible purchasing system",
            Self::DynamicPurchasingSystem => "dynamic purchasing system",
            Self::ProviderPartnerAgreement => "provider partner agreement",
        }
    }
}

/// The framework (first-stage process) the competition calls off from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework {
    pub id: Uuid,
    pub name: String,
    pub kind: ArrangementKind,
    /// The lead commissioner that let it (e.g. Halton for the LCR PPA).
    pub lead: Council,
    /// Partnership code, e.g. `LCR-PPA`.
    pub partnership: String,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    /// The ocid the framework was published under elsewhere, if it was; otherwise the link uses
    /// `{ocid prefix}-{framework id}`.
    pub published_ocid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lot {
    pub id: Uuid,
    pub name: String,
}

/// One evaluation criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Criterion {
    /// `location`, `best_match`, `compatibility`, `quality`, `price`, `service_offer`, …
    pub code: String,
    /// Weight out of 100; 0 for a pass/fail gate.
    pub weight: u32,
}

/// A live bid (one per provider).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bid {
    /// An invited provider's id; its name is taken from [`Competition::invited`].
    pub provider_id: String,
    pub submitted_at: DateTime<Utc>,
}

/// The award of a competition, or a direct award.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Award {
    pub provider: Provider,
    pub weekly_price_pence: i64,
    /// Placement start.
    pub start_date: NaiveDate,
    /// When the award was made.
    pub date: DateTime<Utc>,
    /// A direct award (emergency), not the result of a mini-competition.
    pub direct: bool,
}

/// Why a competition closed without an award.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// No acceptable bid: tender status `unsuccessful`.
    NoAcceptableBid,
    /// The need went away (referral withdrawn) or the commissioner cancelled: `cancelled`.
    Cancelled,
}

/// Where the competition stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Bidding, or bids under evaluation.
    Open,
    Awarded(Award),
    Closed {
        at: DateTime<Utc>,
        reason: CloseReason,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Competition {
    pub id: Uuid,
    /// When it opened (or when the direct award was recorded).
    pub created_at: DateTime<Utc>,
    /// Bid deadline; `None` for a direct award.
    pub deadline: Option<DateTime<Utc>>,
    /// The council calling off: buyer and procuring entity.
    pub council: Council,
    /// Invited providers preselected by the child's needs rather than every provider of the lot.
    pub preselected: bool,
    pub criteria: Vec<Criterion>,
    pub invited: Vec<Provider>,
    pub bids: Vec<Bid>,
    pub outcome: Outcome,
}

/// Everything [`release_package`] needs about one competition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcdsInput {
    pub framework: Framework,
    pub lot: Lot,
    pub competition: Competition,
}

impl OcdsInput {
    /// The time of the last change to what the package says: the `published_at` to pass when
    /// the package is generated on demand (the OCDS guidance for `publishedDate`).
    pub fn last_changed(&self) -> DateTime<Utc> {
        let c = &self.competition;
        match &c.outcome {
            Outcome::Open => c.created_at,
            Outcome::Awarded(a) => a.date.max(c.created_at),
            Outcome::Closed { at, .. } => (*at).max(c.created_at),
        }
    }
}

/// The ocid of a process: `{prefix}-{id}`.
pub fn ocid(prefix: &str, id: Uuid) -> String {
    format!("{prefix}-{id}")
}

/// Builds the OCDS 1.1 release package for one competition.
///
/// - `publisher`: name, ocid prefix and licence (configuration).
/// - `published_at`: `publishedDate`; for a package generated on demand pass
///   [`OcdsInput::last_changed`].
/// - `uri`: the package's own URI, e.g. `{base}/v1/competitions/{id}/ocds`.
///
/// The result validates against the OCDS 1.1 release-package schema (tested against
/// `shared/ocds-1.1/` in `tests/ocds_schema.rs`). See the module docs for the mapping.
pub fn release_package(
    input: &OcdsInput,
    publisher: &Publisher,
    published_at: DateTime<Utc>,
    uri: &str,
) -> Value {
    let mut package = Map::new();
    package.insert("uri".into(), json!(uri));
    package.insert("version".into(), json!(OCDS_VERSION));
    package.insert("publishedDate".into(), json!(timestamp(published_at)));
    package.insert("publisher".into(), json!({ "name": publisher.name }));
    if let Some(license) = &publisher.license {
        package.insert("license".into(), json!(license));
    }
    package.insert(
        "releases".into(),
        Value::Array(releases(input, &publisher.ocid_prefix)),
    );
    Value::Object(package)
}

/// The releases of one competition, oldest first (see the module docs).
pub fn releases(input: &OcdsInput, ocid_prefix: &str) -> Vec<Value> {
    let c = &input.competition;
    let r = ReleaseBuilder {
        input,
        ocid: ocid(ocid_prefix, c.id),
        framework_ocid: input
            .framework
            .published_ocid
            .clone()
            .unwrap_or_else(|| ocid(ocid_prefix, input.framework.id)),
    };
    match &c.outcome {
        Outcome::Awarded(award) if award.direct => vec![r.direct_award(award)],
        Outcome::Open => vec![r.opened()],
        Outcome::Awarded(award) => vec![r.opened(), r.awarded(award)],
        Outcome::Closed { at, reason } => vec![r.opened(), r.closed(*at, *reason)],
    }
}

struct ReleaseBuilder<'a> {
    input: &'a OcdsInput,
    ocid: String,
    framework_ocid: String,
}

/// The tender section's state at a release.
#[derive(Clone, Copy)]
enum Stage {
    Open,
    Ended(&'static str),
}

impl ReleaseBuilder<'_> {
    fn opened(&self) -> Value {
        let c = &self.input.competition;
        self.release(
            "tender",
            c.created_at,
            &["tender"],
            self.tender(Stage::Open, false),
            vec![self.council_party()],
            None,
        )
    }

    fn awarded(&self, award: &Award) -> Value {
        let mut parties = vec![self.council_party()];
        parties.extend(self.provider_parties(Some(&award.provider)));
        self.release(
            "award",
            award.date,
            &["award"],
            self.tender(Stage::Ended("complete"), false),
            parties,
            Some(self.award(award)),
        )
    }

    fn closed(&self, at: DateTime<Utc>, reason: CloseReason) -> Value {
        let (tag, status) = match reason {
            CloseReason::NoAcceptableBid => ("tenderUpdate", "unsuccessful"),
            CloseReason::Cancelled => ("tenderCancellation", "cancelled"),
        };
        let mut parties = vec![self.council_party()];
        parties.extend(self.provider_parties(None));
        self.release(
            "closed",
            at,
            &[tag],
            self.tender(Stage::Ended(status), false),
            parties,
            None,
        )
    }

    fn direct_award(&self, award: &Award) -> Value {
        let mut parties = vec![self.council_party()];
        parties.extend(self.provider_parties(Some(&award.provider)));
        self.release(
            "award",
            award.date,
            &["tender", "award"],
            self.tender(Stage::Ended("complete"), true),
            parties,
            Some(self.award(award)),
        )
    }

    fn release(
        &self,
        suffix: &str,
        date: DateTime<Utc>,
        tags: &[&str],
        tender: Value,
        parties: Vec<Value>,
        award: Option<Value>,
    ) -> Value {
        let c = &self.input.competition;
        let f = &self.input.framework;
        let mut release = Map::new();
        release.insert("ocid".into(), json!(self.ocid));
        release.insert("id".into(), json!(format!("{}-{suffix}", c.id)));
        release.insert("date".into(), json!(timestamp(date)));
        release.insert("tag".into(), json!(tags));
        release.insert("initiationType".into(), json!("tender"));
        release.insert("language".into(), json!("en"));
        release.insert("parties".into(), Value::Array(parties));
        release.insert("buyer".into(), self.council_ref());
        release.insert("tender".into(), tender);
        if let Some(award) = award {
            release.insert("awards".into(), json!([award]));
        }
        release.insert(
            "relatedProcesses".into(),
            json!([{
                "id": "1",
                "relationship": ["framework"],
                "title": f.name,
                "scheme": "ocid",
                "identifier": self.framework_ocid,
            }]),
        );
        Value::Object(release)
    }

    fn tender(&self, stage: Stage, direct: bool) -> Value {
        let OcdsInput {
            framework: f,
            lot,
            competition: c,
        } = self.input;
        let mut t = Map::new();
        t.insert("id".into(), json!(c.id.to_string()));
        t.insert(
            "title".into(),
            json!(format!("{} placement: call-off from {}", lot.name, f.name)),
        );
        let status = match stage {
            Stage::Open => "active",
            Stage::Ended(status) => status,
        };
        t.insert("status".into(), json!(status));
        t.insert("procuringEntity".into(), self.council_ref());
        t.insert(
            "items".into(),
            json!([{
                "id": "1",
                "description": format!("{} placement for one child", lot.name),
                "classification": cpv(),
                "unit": week(None),
            }]),
        );
        t.insert("mainProcurementCategory".into(), json!("services"));
        t.insert(
            "eligibilityCriteria".into(),
            json!(format!(
                "Providers admitted to lot '{}' of the {} '{}' ({} to {}), let by {} for the {} partnership.",
                lot.name,
                f.kind.label(),
                f.name,
                f.start_date,
                f.end_date,
                f.lead.name,
                f.partnership
            )),
        );
        if direct {
            self.direct_method(&mut t);
        } else {
            self.selective_method(&mut t);
        }
        if let Stage::Ended(_) = stage {
            let tenderers = self.tenderers();
            if !direct || !tenderers.is_empty() {
                t.insert("numberOfTenderers".into(), json!(tenderers.len()));
                t.insert(
                    "tenderers".into(),
                    Value::Array(tenderers.iter().map(|p| org_ref(&p.id, &p.name)).collect()),
                );
            }
        }
        Value::Object(t)
    }

    /// How a direct award was procured: directly, in an emergency.
    fn direct_method(&self, t: &mut Map<String, Value>) {
        let f = &self.input.framework;
        t.insert("procurementMethod".into(), json!("direct"));
        t.insert(
            "procurementMethodDetails".into(),
            json!(format!(
                "Direct award under the {} '{}' without a mini-competition",
                f.kind.label(),
                f.name
            )),
        );
        t.insert(
            "procurementMethodRationale".into(),
            json!(
                "Emergency placement: awarded directly without a mini-competition; the \
                 council records the justification and a review date"
            ),
        );
    }

    /// How a mini-competition was procured: selectively among the lot's providers, on its
    /// criteria, within its tender period.
    fn selective_method(&self, t: &mut Map<String, Value>) {
        let OcdsInput {
            framework: f,
            competition: c,
            ..
        } = self.input;
        let who = if c.preselected {
            "providers of the lot preselected by the child's needs"
        } else {
            "every provider admitted to the lot"
        };
        t.insert("procurementMethod".into(), json!("selective"));
        t.insert(
            "procurementMethodDetails".into(),
            json!(format!(
                "Mini-competition (call-off) under the {} '{}' among {} ({} invited)",
                f.kind.label(),
                f.name,
                who,
                c.invited.len()
            )),
        );
        if let Some((code, details)) = award_criteria(&c.criteria) {
            t.insert("awardCriteria".into(), json!(code));
            t.insert("awardCriteriaDetails".into(), json!(details));
        }
        t.insert("submissionMethod".into(), json!(["electronicSubmission"]));
        let mut period = Map::new();
        period.insert("startDate".into(), json!(timestamp(c.created_at)));
        if let Some(deadline) = c.deadline {
            period.insert("endDate".into(), json!(timestamp(deadline)));
        }
        t.insert("tenderPeriod".into(), Value::Object(period));
    }

    fn award(&self, award: &Award) -> Value {
        let c = &self.input.competition;
        let lot = &self.input.lot;
        let annual = award.weekly_price_pence.saturating_mul(WEEKS_PER_YEAR);
        let how = if award.direct {
            "Direct award".to_owned()
        } else {
            format!(
                "Awarded after a mini-competition with {} tenderer(s)",
                self.tenderers().len()
            )
        };
        json!({
            "id": format!("{}-award", c.id),
            "title": format!("{} placement", lot.name),
            "description": format!(
                "{how}. Value: the weekly rate of £{} annualised (× {WEEKS_PER_YEAR}).",
                Pence(award.weekly_price_pence).decimal()
            ),
            "status": "active",
            "date": timestamp(award.date),
            "value": gbp(annual),
            "suppliers": [org_ref(&award.provider.id, &award.provider.name)],
            "items": [{
                "id": "1",
                "description": format!("{} placement for one child", lot.name),
                "classification": cpv(),
                "quantity": WEEKS_PER_YEAR,
                "unit": week(Some(award.weekly_price_pence)),
            }],
            "contractPeriod": { "startDate": uk_midnight(award.start_date) },
        })
    }

    /// Distinct bidders in order of first submission.
    fn tenderers(&self) -> Vec<Provider> {
        let c = &self.input.competition;
        let mut bids: Vec<&Bid> = c.bids.iter().collect();
        bids.sort_by(|a, b| {
            (a.submitted_at, &a.provider_id).cmp(&(b.submitted_at, &b.provider_id))
        });
        let mut out: Vec<Provider> = Vec::new();
        for bid in bids {
            if out.iter().any(|p| p.id == bid.provider_id) {
                continue;
            }
            let name = c
                .invited
                .iter()
                .find(|p| p.id == bid.provider_id)
                .map_or_else(|| bid.provider_id.clone(), |p| p.name.clone());
            out.push(Provider {
                id: bid.provider_id.clone(),
                name,
            });
        }
        out
    }

    /// Tenderers (and the supplier, if any) as parties.
    fn provider_parties(&self, supplier: Option<&Provider>) -> Vec<Value> {
        let tenderers = self.tenderers();
        let mut parties: Vec<Value> = tenderers
            .iter()
            .map(|p| {
                let roles: &[&str] = if supplier.is_some_and(|s| s.id == p.id) {
                    &["tenderer", "supplier"]
                } else {
                    &["tenderer"]
                };
                json!({ "id": p.id, "name": p.name, "roles": roles })
            })
            .collect();
        if let Some(s) = supplier
            && !tenderers.iter().any(|p| p.id == s.id)
        {
            parties.push(json!({ "id": s.id, "name": s.name, "roles": ["supplier"] }));
        }
        parties
    }

    fn council_party(&self) -> Value {
        let council = &self.input.competition.council;
        json!({
            "id": council.gss,
            "name": council.name,
            "roles": ["buyer", "procuringEntity"],
        })
    }

    fn council_ref(&self) -> Value {
        let council = &self.input.competition.council;
        org_ref(&council.gss, &council.name)
    }
}

/// `awardCriteria` (awardCriteria codelist) and `awardCriteriaDetails` from the criteria.
fn award_criteria(criteria: &[Criterion]) -> Option<(&'static str, String)> {
    let scored: Vec<&Criterion> = criteria.iter().filter(|c| c.weight > 0).collect();
    if scored.is_empty() {
        return None;
    }
    let price_scored = scored.iter().any(|c| c.code == "price");
    let code = if price_scored && scored.len() == 1 {
        "priceOnly"
    } else if !price_scored {
        "qualityOnly"
    } else {
        "ratedCriteria"
    };
    let gates: Vec<&str> = criteria
        .iter()
        .filter(|c| c.weight == 0)
        .map(|c| c.code.as_str())
        .collect();
    let weights: Vec<String> = scored
        .iter()
        .map(|c| format!("{} {}", c.code, c.weight))
        .collect();
    let mut details = String::new();
    if !gates.is_empty() {
        details.push_str(&format!("Pass/fail: {}. ", gates.join(", ")));
    }
    details.push_str(&format!(
        "Scored (weights out of 100): {}. Best weighted total wins.",
        weights.join(", ")
    ));
    Some((code, details))
}

fn org_ref(id: &str, name: &str) -> Value {
    json!({ "id": id, "name": name })
}

fn cpv() -> Value {
    json!({ "scheme": "CPV", "id": CPV_PLACEMENT, "description": CPV_PLACEMENT_TITLE })
}

/// UN/CEFACT Recommendation 20 unit "week", with its price if known.
fn week(weekly_pence: Option<i64>) -> Value {
    let mut unit = json!({ "scheme": "UNCEFACT", "id": "WEE", "name": "week" });
    if let Some(p) = weekly_pence {
        unit["value"] = gbp(p);
    }
    unit
}

/// An OCDS `Value` in pounds. Integer pence ÷ 100 is correctly rounded, and serde_json prints the
/// shortest form that round-trips, so the number has at most two decimals (103999.48).
fn gbp(pence: i64) -> Value {
    json!({ "amount": pence as f64 / 100.0, "currency": "GBP" })
}

/// RFC 3339 in UTC to the second (`2026-12-01T09:30:00Z`), as OCDS dates are.
fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Midnight at the start of a UK calendar date, with its offset: `+01:00` in British Summer Time
/// (from the last Sunday of March to the last Sunday of October; on either changeover Sunday
/// midnight falls before the 01:00 UTC change), `Z` otherwise.
fn uk_midnight(d: NaiveDate) -> String {
    let bst = d > last_sunday(d.year(), 3) && d <= last_sunday(d.year(), 10);
    format!(
        "{}T00:00:00{}",
        d.format("%Y-%m-%d"),
        if bst { "+01:00" } else { "Z" }
    )
}

fn last_sunday(year: i32, month: u32) -> NaiveDate {
    let last = NaiveDate::from_ymd_opt(year, month + 1, 1)
        .and_then(|d| d.pred_opt())
        .expect("month is March or October");
    last - Duration::days(i64::from(last.weekday().num_days_from_sunday()))
}

/// The published address the release-package schema uses to refer to the release schema.
pub const RELEASE_SCHEMA_URL: &str =
    "https://standard.open-contracting.org/schema/1__1__5/release-schema.json";

/// Validates release packages against the OCDS 1.1 release-package schema (JSON Schema
/// draft-04), with the release schema registered under its published address so nothing is
/// fetched over the network.
pub struct SchemaValidator(jsonschema::Validator);

impl SchemaValidator {
    /// Loads `release-package-schema.json` and `release-schema.json` from `dir`.
    pub fn load(dir: &std::path::Path) -> anyhow::Result<Self> {
        let read = |name: &str| -> anyhow::Result<Value> {
            let path = dir.join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| {
                anyhow::anyhow!("cannot read the OCDS schema {}: {e}", path.display())
            })?;
            Ok(serde_json::from_str(&text)?)
        };
        let release = read("release-schema.json")?;
        anyhow::ensure!(
            release["id"] == RELEASE_SCHEMA_URL,
            "release-schema.json is not the 1.1.5 release schema the package schema refers to"
        );
        let registry = jsonschema::Registry::new()
            .add(RELEASE_SCHEMA_URL, release)
            .map_err(|e| anyhow::anyhow!("registering the release schema: {e}"))?
            .prepare()
            .map_err(|e| anyhow::anyhow!("registering the release schema: {e}"))?;
        let validator = jsonschema::options()
            .with_draft(jsonschema::Draft::Draft4)
            .with_registry(&registry)
            .should_validate_formats(true)
            .build(&read("release-package-schema.json")?)
            .map_err(|e| anyhow::anyhow!("compiling the release-package schema: {e}"))?;
        Ok(Self(validator))
    }

    /// Every schema violation in `package`, with where it is.
    pub fn errors(&self, package: &Value) -> Vec<String> {
        self.0
            .iter_errors(package)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn placement_starts_at_uk_midnight() {
        // 2026: BST from Sunday 29 March to Sunday 25 October.
        assert_eq!(uk_midnight(date(2026, 3, 29)), "2026-03-29T00:00:00Z");
        assert_eq!(uk_midnight(date(2026, 3, 30)), "2026-03-30T00:00:00+01:00");
        assert_eq!(uk_midnight(date(2026, 10, 25)), "2026-10-25T00:00:00+01:00");
        assert_eq!(uk_midnight(date(2026, 10, 26)), "2026-10-26T00:00:00Z");
        assert_eq!(uk_midnight(date(2026, 12, 1)), "2026-12-01T00:00:00Z");
    }

    #[test]
    fn pounds_have_at_most_two_decimals() {
        assert_eq!(gbp(199_999 * 52)["amount"].to_string(), "103999.48");
        assert_eq!(gbp(10)["amount"].to_string(), "0.1");
        assert_eq!(Pence(199_999).decimal(), "1999.99");
        assert_eq!(Pence(5).decimal(), "0.05");
    }

    #[test]
    fn award_criteria_follow_the_codelist() {
        let c = |code: &str, weight| Criterion {
            code: code.into(),
            weight,
        };
        assert_eq!(
            award_criteria(&[c("location", 0), c("price", 100)])
                .unwrap()
                .0,
            "priceOnly"
        );
        assert_eq!(
            award_criteria(&[c("quality", 60), c("location", 40)])
                .unwrap()
                .0,
            "qualityOnly"
        );
        let (code, details) =
            award_criteria(&[c("location", 0), c("price", 40), c("quality", 60)]).unwrap();
        assert_eq!(code, "ratedCriteria");
        assert_eq!(
            details,
            "Pass/fail: location. Scored (weights out of 100): price 40, quality 60. Best weighted total wins."
        );
        assert!(award_criteria(&[]).is_none());
    }
}
