//! Block contracts: a council buys a number of beds from a provider at a block weekly rate,
//! cheaper than the spot rate it replaces, for a term with extension options. No I/O.
//!
//! Decisions:
//! * A block contract is let by a commissioner of a member council of the partnership (the
//!   partnership's lead commissioner, or the council buying the beds for itself, as Sefton
//!   did with Care Assist and Family Care Group); that council is its *lead council*. Each
//!   bed is held for a member council (by default the lead council).
//! * The term runs from `start_date` for `term_years` years (the last day is the day before
//!   the anniversary); each extension option adds `extension_years` years.
//! * A bed with no child in it is *void*. A bed is void from the contract's first day until
//!   it is first filled, and from the day after a child's last night. The holding council is
//!   told at once (`contract.bed_void`); if none of its children fills the bed within
//!   `void_offer_after_days` days ([`DEFAULT_VOID_OFFER_AFTER_DAYS`] = 7 unless the contract
//!   says otherwise, about the time a planned move takes to arrange), the sweep offers it to
//!   the partnership's other councils (`contract.bed_offered`), once per void. The offer
//!   stands until the bed is filled or the contract ends.
//! * Savings: planned annual saving = (spot − block) × 52 × beds (the seed's figures);
//!   realised saving over a date range = (spot − block) × occupied bed-days / 7 and the cost
//!   of voids = block × void bed-days / 7, each rounded half up to the penny once, on the
//!   totals (see [`savings`]).
//! * Money bounds: each weekly rate (block and spot) is more than zero and at most
//!   `Pence::MAX_WEEKLY` (£100,000.00), else 422 naming the field (`range`). With at most
//!   [`MAX_BEDS`] beds and a term of at most 10 + 10 × 5 years, everything derived from a
//!   block contract (a year's saving, every bed-day finance costs) stays far inside `i64`.

use chrono::{Datelike, Days, NaiveDate, NaiveDateTime};
use hub_platform::{
    FieldError, Pence, Principal, Problem, Role,
    directory::{self, Partnership},
    http::Validate,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::Visible;
use crate::ids::{BlockContractId, ExtensionId, HomeId, LotId, PlacementId, StayId};

/// A block contract: its terms, the extension options used, and who let it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockContract {
    pub id: BlockContractId,
    pub partnership: String,
    /// The council that let it and holds it.
    pub lead_council: String,
    pub provider_id: String,
    pub description: String,
    pub beds: i32,
    pub block_weekly_rate_pence: Pence,
    pub spot_weekly_rate_pence: Pence,
    pub start_date: NaiveDate,
    /// The term's last day, after any extensions used.
    pub end_date: NaiveDate,
    pub term_years: i32,
    pub extension_options: i32,
    pub extension_years: i32,
    pub extensions_used: i32,
    pub void_offer_after_days: i32,
    pub lot_id: Option<LotId>,
    pub home_id: Option<HomeId>,
    pub postcode_district: Option<String>,
    pub let_by: String,
    pub let_at: NaiveDateTime,
}

impl BlockContract {
    /// The block contract `who` (its lead council's commissioner) lets on `input`, for
    /// `partnership` (the one `input` names), at `now`.
    pub fn let_by(
        who: &Principal,
        input: &NewBlockContract,
        partnership: &Partnership,
        now: NaiveDateTime,
    ) -> Self {
        Self {
            id: BlockContractId::new(),
            partnership: partnership.code.to_owned(),
            lead_council: who.org.clone(),
            provider_id: input.provider_id.trim().to_owned(),
            description: input
                .description
                .as_deref()
                .map(str::trim)
                .unwrap_or_default()
                .to_owned(),
            beds: input.beds as i32,
            block_weekly_rate_pence: Pence(input.block_weekly_rate_pence),
            spot_weekly_rate_pence: Pence(input.spot_weekly_rate_pence),
            start_date: input.start_date,
            end_date: input.end_date(),
            term_years: input.term_years as i32,
            extension_options: input.extension_options as i32,
            extension_years: input.extension_years() as i32,
            extensions_used: 0,
            void_offer_after_days: input.void_offer_after_days() as i32,
            lot_id: input.lot_id.map(LotId),
            home_id: input.home_id.map(HomeId),
            postcode_district: input.postcode_district.clone(),
            let_by: who.sub.clone(),
            let_at: now,
        }
    }

    /// What savings are worked out from.
    pub fn terms(&self) -> BlockTerms {
        BlockTerms {
            beds: self.beds as u16,
            block_weekly: self.block_weekly_rate_pence,
            spot_weekly: self.spot_weekly_rate_pence,
            start: self.start_date,
            end: self.end_date,
        }
    }

    pub fn extensions_left(&self) -> u16 {
        (self.extension_options - self.extensions_used).max(0) as u16
    }

    /// One more extension option may be used: 409 `/problems/no-extensions-left` when none
    /// is left.
    pub fn extend(&self) -> Result<(), Problem> {
        if self.extensions_left() == 0 {
            return Err(self.no_extensions_left());
        }
        Ok(())
    }

    /// 409 `/problems/no-extensions-left`.
    pub fn no_extensions_left(&self) -> Problem {
        Problem::conflict(
            "no-extensions-left",
            format!(
                "all {} extension options of this block contract are used",
                self.extension_options
            ),
        )
    }

    /// `who` is a commissioner of the lead council, who extends it; 403 otherwise.
    pub fn lead_acts(&self, who: &Principal) -> Result<(), Problem> {
        who.require_any(&[Role::Commissioner])?;
        if who.org != self.lead_council {
            return Err(Problem::forbidden(format!(
                "only the lead council ({}) extends this block contract",
                self.lead_council
            )));
        }
        Ok(())
    }

    pub fn planned_annual_saving(&self) -> Pence {
        planned_annual_saving(
            self.spot_weekly_rate_pence,
            self.block_weekly_rate_pence,
            self.beds as u16,
        )
    }

    /// `council` is a member of the contract's partnership.
    pub fn is_member(&self, council: &str) -> bool {
        directory::partnership(&self.partnership).is_some_and(|p| p.has_member(council))
    }
}

/// See [`may_see`].
impl Visible for BlockContract {
    const WHAT: &'static str = "block contract";

    fn visible_to(&self, who: &Principal) -> bool {
        may_see(who, &self.partnership, &self.provider_id)
    }
}

/// A bed as it stands now: the child in it, or since when it is void and whom that void was
/// offered to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bed {
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub held_for: String,
    pub placement_id: Option<PlacementId>,
    /// The first day of the current void.
    pub void_from: Option<NaiveDate>,
    pub offered_on: Option<NaiveDate>,
    /// The councils the void was offered to.
    pub offered_to: Option<Vec<String>>,
}

impl Bed {
    /// The councils the current void is offered to (empty unless an offer stands).
    pub fn current_offer(&self) -> Vec<String> {
        if self.placement_id.is_some() || self.offered_on.is_none() {
            return Vec::new();
        }
        self.offered_to.clone().unwrap_or_default()
    }

    /// `occupied` (a child in it or moving in), `offered` (void and offered to partner
    /// councils) or `void`.
    pub fn state(&self) -> &'static str {
        if self.placement_id.is_some() {
            "occupied"
        } else if self.offered_on.is_some() {
            "offered"
        } else {
            "void"
        }
    }
}

/// One child's stay in a bed of a block contract, as stored (no personal data: the placement
/// and its council).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BedStay {
    pub id: StayId,
    pub block_contract_id: BlockContractId,
    pub bed: i32,
    pub placement_id: PlacementId,
    pub council: String,
    pub from_date: NaiveDate,
    /// The child's last night; none while they are there.
    pub to_date: Option<NaiveDate>,
}

impl BedStay {
    /// The stay as savings count it.
    pub fn stay(&self) -> Stay {
        Stay {
            bed: self.bed as u16,
            from: self.from_date,
            to: self.to_date,
        }
    }
}

/// An extension option used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockExtension {
    pub id: ExtensionId,
    pub block_contract_id: BlockContractId,
    pub previous_end_date: NaiveDate,
    pub new_end_date: NaiveDate,
    pub extended_by: String,
    pub extended_at: NaiveDateTime,
}

/// Days a bed may stand void before the sweep offers it to partner councils, unless the
/// contract sets its own number.
pub const DEFAULT_VOID_OFFER_AFTER_DAYS: u16 = 7;

/// Weeks in a year for annual figures (the seed's savings use 52).
pub const WEEKS_A_YEAR: i64 = 52;

/// The most beds one block contract may buy.
pub const MAX_BEDS: u16 = 50;

/// A request to let a block contract.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBlockContract {
    /// The partnership the contract is let for (`AIM`, `LCR-PPA`…): its other councils are
    /// offered void beds.
    pub partnership: String,
    pub provider_id: String,
    /// What the beds are for, e.g. `male adolescents`.
    #[serde(default)]
    pub description: Option<String>,
    /// Number of beds bought (1–50).
    pub beds: u16,
    /// What each bed costs a week under the block contract, filled or void.
    pub block_weekly_rate_pence: i64,
    /// The spot weekly rate per bed the block contract replaces.
    pub spot_weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// Length of the term in years (1–10).
    pub term_years: u16,
    /// Extension options (0–10), each of `extension_years`.
    #[serde(default)]
    pub extension_options: u16,
    /// Years each extension option adds (1–5; default 1).
    #[serde(default)]
    pub extension_years: Option<u16>,
    /// The council each bed is held for, bed 1 first (GSS codes of partnership members);
    /// by default every bed is held for the letting council.
    #[serde(default)]
    pub held_for: Option<Vec<String>>,
    /// Days a bed may stand void before it is offered to partner councils (0–365; default 7).
    #[serde(default)]
    pub void_offer_after_days: Option<u16>,
    /// The lot (of the partnership's framework) the beds fall under, for the vacancy listing.
    #[serde(default)]
    pub lot_id: Option<Uuid>,
    /// The provider's home the beds are in.
    #[serde(default)]
    pub home_id: Option<Uuid>,
    /// The home's postcode district, e.g. `L20`.
    #[serde(default)]
    pub postcode_district: Option<String>,
}

impl Validate for NewBlockContract {
    fn validate(&self) -> Vec<FieldError> {
        let partnership = directory::partnership(&self.partnership);
        let mut e = Vec::new();
        if partnership.is_none() {
            e.push(FieldError::new(
                "/partnership",
                "one_of",
                "not a known partnership (AIM, LCR-PPA, D2N2, WMAS)",
            ));
        }
        if self.provider_id.trim().is_empty() {
            e.push(FieldError::new(
                "/provider_id",
                "required",
                "name the provider",
            ));
        }
        e.extend(self.bed_and_rate_errors());
        e.extend(self.term_errors());
        e.extend(self.held_for_errors(partnership));
        if let Some(d) = &self.postcode_district
            && !directory::is_postcode_district(d)
        {
            e.push(FieldError::new(
                "/postcode_district",
                "format",
                "an outward postcode in capitals, e.g. L20 or WA7",
            ));
        }
        e
    }
}

/// The rules of [`NewBlockContract`], one concern each, in the order their errors are listed.
impl NewBlockContract {
    /// 1 to [`MAX_BEDS`] beds, each rate above zero and at most [`Pence::MAX_WEEKLY`].
    fn bed_and_rate_errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(1..=MAX_BEDS).contains(&self.beds) {
            e.push(FieldError::new(
                "/beds",
                "range",
                format!("a block contract buys 1 to {MAX_BEDS} beds"),
            ));
        }
        for (field, rate) in [
            ("/block_weekly_rate_pence", self.block_weekly_rate_pence),
            ("/spot_weekly_rate_pence", self.spot_weekly_rate_pence),
        ] {
            if rate <= 0 {
                e.push(FieldError::new(
                    field,
                    "positive",
                    "a weekly rate in pence, above zero",
                ));
            } else if let Err(err) = Pence(rate).check_range(field, Pence(1), Pence::MAX_WEEKLY) {
                e.push(err);
            }
        }
        e
    }

    /// The term, its extension options and the void days before an offer, within bounds.
    fn term_errors(&self) -> Vec<FieldError> {
        let mut e = Vec::new();
        if !(1..=10).contains(&self.term_years) {
            e.push(FieldError::new(
                "/term_years",
                "range",
                "a term of 1 to 10 years",
            ));
        }
        if self.extension_options > 10 {
            e.push(FieldError::new(
                "/extension_options",
                "range",
                "at most 10 extension options",
            ));
        }
        if let Some(y) = self.extension_years
            && !(1..=5).contains(&y)
        {
            e.push(FieldError::new(
                "/extension_years",
                "range",
                "an extension option adds 1 to 5 years",
            ));
        }
        if let Some(d) = self.void_offer_after_days
            && d > 365
        {
            e.push(FieldError::new(
                "/void_offer_after_days",
                "range",
                "0 to 365 days",
            ));
        }
        e
    }

    /// One council per bed, each a member of the partnership (when it is known).
    fn held_for_errors(&self, partnership: Option<&Partnership>) -> Vec<FieldError> {
        let mut e = Vec::new();
        let Some(held) = &self.held_for else {
            return e;
        };
        if held.len() != self.beds as usize {
            e.push(FieldError::new(
                "/held_for",
                "length",
                "name one council per bed, or leave it out (every bed for the letting council)",
            ));
        }
        if let Some(p) = partnership {
            for (i, c) in held.iter().enumerate() {
                if !p.has_member(c) {
                    e.push(FieldError::new(
                        format!("/held_for/{i}"),
                        "member",
                        format!("not a member council of {}", p.code),
                    ));
                }
            }
        }
        e
    }
}

impl NewBlockContract {
    /// The term's last day.
    pub fn end_date(&self) -> NaiveDate {
        add_years(self.start_date, self.term_years)
    }

    pub fn extension_years(&self) -> u16 {
        self.extension_years.unwrap_or(1)
    }

    pub fn void_offer_after_days(&self) -> u16 {
        self.void_offer_after_days
            .unwrap_or(DEFAULT_VOID_OFFER_AFTER_DAYS)
    }

    /// The council each bed is held for, bed 1 first.
    pub fn held_for(&self, letting_council: &str) -> Vec<String> {
        self.held_for
            .clone()
            .unwrap_or_else(|| vec![letting_council.to_owned(); self.beds as usize])
    }
}

/// The last day of a term of `years` years from `start`: the day before the anniversary
/// (1 April 2021 + 3 years → 31 March 2024; a 29 February start ends on 28 February).
pub fn add_years(start: NaiveDate, years: u16) -> NaiveDate {
    let year = start.year() + years as i32;
    // The anniversary of 29 February in a common year is 1 March.
    let anniversary = start
        .with_year(year)
        .or_else(|| NaiveDate::from_ymd_opt(year, 3, 1))
        .expect("a date within chrono's range");
    anniversary - Days::new(1)
}

/// The term after one more extension of `years` years: the day before the anniversary of
/// the day after the current end.
pub fn extended_end(end: NaiveDate, years: u16) -> NaiveDate {
    add_years(end + Days::new(1), years)
}

/// Whether `who` may let a block contract for `partnership`: a commissioner of one of its
/// member councils. `Err` is the reason to refuse with (403).
pub fn may_let(who: &Principal, partnership: &Partnership) -> Result<(), String> {
    if !who.has(Role::Commissioner) || who.is_provider() {
        return Err("only a council's commissioner lets a block contract".into());
    }
    if !partnership.has_member(&who.org) {
        return Err(format!(
            "only a member council of {} lets a block contract for it",
            partnership.code
        ));
    }
    Ok(())
}

/// Who may see a block contract: staff of the partnership's member councils (every bed may
/// be offered to any of them), and the provider. Anyone else gets 404.
pub fn may_see(who: &Principal, partnership: &str, provider_id: &str) -> bool {
    if who.is_provider() {
        return who.org == provider_id;
    }
    super::has_council_role(who)
        && directory::partnership(partnership).is_some_and(|p| p.has_member(&who.org))
}

/// Which block contracts a caller's lists are narrowed to in the query, as
/// `(partnerships, provider_id)` with one of them set: a provider user's, its own; anyone
/// else's, those of the partnerships its council is a member of. [`may_see`] has the last
/// word on each row.
pub fn listed_for(who: &Principal) -> (Option<Vec<&'static str>>, Option<&str>) {
    if who.is_provider() {
        (None, Some(&who.org))
    } else {
        let codes = directory::partnerships_of(&who.org).map(|p| p.code);
        (Some(codes.collect()), None)
    }
}

/// Planned annual saving: (spot − block) × 52 × beds.
pub fn planned_annual_saving(spot: Pence, block: Pence, beds: u16) -> Pence {
    (spot - block) * WEEKS_A_YEAR * beds as i64
}

/// The councils a void bed held for `held_for` is offered to: the partnership's other
/// members, in the directory's order.
pub fn offer_to(partnership: &Partnership, held_for: &str) -> Vec<String> {
    partnership
        .members
        .iter()
        .filter(|m| **m != held_for)
        .map(|m| (*m).to_owned())
        .collect()
}

/// The day the sweep offers a bed void since `void_from` to partner councils.
pub fn offer_due_on(void_from: NaiveDate, after_days: u16) -> NaiveDate {
    void_from + Days::new(after_days as u64)
}

/// One child's stay in a bed: from the day they moved in to their last night (open while
/// they are still there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stay {
    pub bed: u16,
    pub from: NaiveDate,
    pub to: Option<NaiveDate>,
}

/// The figures of a block contract savings are worked out from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockTerms {
    pub beds: u16,
    pub block_weekly: Pence,
    pub spot_weekly: Pence,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// Occupied and void days of one bed over a range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BedDays {
    pub bed: u16,
    pub occupied_days: i64,
    pub void_days: i64,
}

/// What a block contract saved over a date range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = BlockContractSavings)]
pub struct Savings {
    /// The range asked about, inclusive.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// (spot − block) × 52 × beds.
    #[schema(value_type = i64)]
    pub planned_annual_saving_pence: Pence,
    /// Bed-days within both the range and the term.
    pub bed_days: i64,
    pub occupied_bed_days: i64,
    pub void_bed_days: i64,
    /// (spot − block) × occupied bed-days / 7, rounded half up to the penny.
    #[schema(value_type = i64)]
    pub realised_saving_pence: Pence,
    /// block × void bed-days / 7, rounded half up to the penny: paid for beds no child used.
    #[schema(value_type = i64)]
    pub void_cost_pence: Pence,
    /// Realised saving less the cost of voids.
    #[schema(value_type = i64)]
    pub net_saving_pence: Pence,
    pub per_bed: Vec<BedDays>,
}

fn days_inclusive(from: NaiveDate, to: NaiveDate) -> i64 {
    if to < from {
        0
    } else {
        (to - from).num_days() + 1
    }
}

/// Realised saving and the cost of voids over `from ..= to`, counting only days within the
/// term. A stay still open runs to the end of the range. Stays never overlap in one bed (the
/// store refuses a second child in an occupied bed), so a bed's occupied days are the sum
/// of its stays' days.
pub fn savings(terms: &BlockTerms, stays: &[Stay], from: NaiveDate, to: NaiveDate) -> Savings {
    let lo = from.max(terms.start);
    let hi = to.min(terms.end);
    let in_term = days_inclusive(lo, hi);
    let per_bed: Vec<BedDays> = (1..=terms.beds)
        .map(|bed| {
            let occupied: i64 = stays
                .iter()
                .filter(|s| s.bed == bed)
                .map(|s| days_inclusive(s.from.max(lo), s.to.unwrap_or(hi).min(hi)))
                .sum();
            BedDays {
                bed,
                occupied_days: occupied,
                void_days: in_term - occupied,
            }
        })
        .collect();
    let occupied: i64 = per_bed.iter().map(|b| b.occupied_days).sum();
    let void: i64 = per_bed.iter().map(|b| b.void_days).sum();
    let realised = (terms.spot_weekly - terms.block_weekly).prorate_weekly(occupied);
    let void_cost = terms.block_weekly.prorate_weekly(void);
    Savings {
        from,
        to,
        planned_annual_saving_pence: planned_annual_saving(
            terms.spot_weekly,
            terms.block_weekly,
            terms.beds,
        ),
        bed_days: in_term * terms.beds as i64,
        occupied_bed_days: occupied,
        void_bed_days: void,
        realised_saving_pence: realised,
        void_cost_pence: void_cost,
        net_saving_pence: realised - void_cost,
        per_bed,
    }
}

/// `POST /v1/contracts/blocks/{id}/extend`: no body, or `{}`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtendBlock {}

impl Validate for ExtendBlock {}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn care_assist() -> BlockTerms {
        BlockTerms {
            beds: 4,
            block_weekly: Pence::gbp(1988, 0),
            spot_weekly: Pence::gbp(2149, 0),
            start: d(2025, 4, 1),
            end: d(2028, 3, 31),
        }
    }

    #[test]
    fn planned_savings_are_the_seeds_figures() {
        let care = planned_annual_saving(Pence::gbp(2149, 0), Pence::gbp(1988, 0), 4);
        assert_eq!(care, Pence(3_348_800));
        assert_eq!(care.to_string(), "£33,488.00");
        let family = planned_annual_saving(Pence::gbp(3170, 65), Pence::gbp(2809, 0), 4);
        assert_eq!(family, Pence(7_522_320));
        assert_eq!(family.to_string(), "£75,223.20");
    }

    #[test]
    fn terms_and_extensions_end_the_day_before_the_anniversary() {
        assert_eq!(add_years(d(2021, 4, 1), 3), d(2024, 3, 31));
        assert_eq!(extended_end(d(2024, 3, 31), 1), d(2025, 3, 31));
        assert_eq!(add_years(d(2024, 2, 29), 1), d(2025, 2, 28));
        assert_eq!(add_years(d(2018, 4, 1), 2), d(2020, 3, 31));
    }

    #[test]
    fn fifty_two_weeks_of_full_beds_save_exactly_the_planned_figure() {
        // 52 weeks = 364 days, all four beds full: exactly the planned saving, no voids.
        let stays: Vec<Stay> = (1..=4)
            .map(|bed| Stay {
                bed,
                from: d(2025, 4, 1),
                to: None,
            })
            .collect();
        let s = savings(&care_assist(), &stays, d(2025, 4, 1), d(2026, 3, 30));
        assert_eq!(s.occupied_bed_days, 4 * 364);
        assert_eq!(s.void_bed_days, 0);
        assert_eq!(s.realised_saving_pence, Pence::gbp(33_488, 0));
        assert_eq!(s.void_cost_pence, Pence::ZERO);
        assert_eq!(s.planned_annual_saving_pence, Pence::gbp(33_488, 0));
    }

    #[test]
    fn realised_savings_count_occupied_bed_days_and_voids_cost_the_block_rate() {
        // Bed 1: 1 April to 30 April (30 nights); bed 2: from 10 April, still there;
        // bed 3: never filled; bed 4: 1 April–5 April then 20 April on.
        let stays = vec![
            Stay {
                bed: 1,
                from: d(2025, 4, 1),
                to: Some(d(2025, 4, 30)),
            },
            Stay {
                bed: 2,
                from: d(2025, 4, 10),
                to: None,
            },
            Stay {
                bed: 4,
                from: d(2025, 4, 1),
                to: Some(d(2025, 4, 5)),
            },
            Stay {
                bed: 4,
                from: d(2025, 4, 20),
                to: None,
            },
        ];
        // April 2025: 30 days × 4 beds.
        let s = savings(&care_assist(), &stays, d(2025, 4, 1), d(2025, 4, 30));
        let per: Vec<(i64, i64)> = s
            .per_bed
            .iter()
            .map(|b| (b.occupied_days, b.void_days))
            .collect();
        assert_eq!(per, vec![(30, 0), (21, 9), (0, 30), (16, 14)]);
        assert_eq!(s.bed_days, 120);
        assert_eq!(s.occupied_bed_days, 67);
        assert_eq!(s.void_bed_days, 53);
        // £161 × 67 / 7 = £1,541.00 exactly; £1,988 × 53 / 7 = £15,052.00.
        assert_eq!(s.realised_saving_pence, Pence(154_100));
        assert_eq!(s.void_cost_pence, Pence(1_505_200));
        assert_eq!(s.net_saving_pence, Pence(154_100 - 1_505_200));
    }

    #[test]
    fn rounding_is_half_up_once_on_the_totals() {
        // Family Care Group: £361.65 a week saved per occupied bed-week.
        let terms = BlockTerms {
            beds: 4,
            block_weekly: Pence::gbp(2809, 0),
            spot_weekly: Pence::gbp(3170, 65),
            start: d(2025, 4, 1),
            end: d(2028, 3, 31),
        };
        let stays = vec![Stay {
            bed: 1,
            from: d(2025, 4, 1),
            to: Some(d(2025, 4, 1)),
        }];
        let s = savings(&terms, &stays, d(2025, 4, 1), d(2025, 4, 1));
        // 36,165 / 7 = 5,166.43 → £51.66; voids 3 × 280,900 / 7 = 120,385.71 → £1,203.86.
        assert_eq!(s.realised_saving_pence, Pence(5_166));
        assert_eq!(s.void_cost_pence, Pence(120_386));
        // 3 days: 108,495 / 7 = 15,499.29 → £154.99.
        let stays = vec![Stay {
            bed: 2,
            from: d(2025, 4, 1),
            to: None,
        }];
        let s = savings(&terms, &stays, d(2025, 4, 1), d(2025, 4, 3));
        assert_eq!(s.realised_saving_pence, Pence(15_499));
    }

    #[test]
    fn days_outside_the_term_do_not_count() {
        let stays = vec![Stay {
            bed: 1,
            from: d(2028, 3, 1),
            to: None,
        }];
        let s = savings(&care_assist(), &stays, d(2028, 3, 25), d(2028, 4, 30));
        assert_eq!(s.bed_days, 4 * 7);
        assert_eq!(s.occupied_bed_days, 7);
        assert_eq!(s.void_bed_days, 21);
        let before = savings(&care_assist(), &[], d(2025, 1, 1), d(2025, 12, 31));
        assert_eq!(before.bed_days, 4 * 275);
        let none = savings(&care_assist(), &[], d(2030, 1, 1), d(2030, 2, 1));
        assert_eq!((none.bed_days, none.void_cost_pence), (0, Pence::ZERO));
    }

    #[test]
    fn void_beds_are_offered_to_the_other_members_after_the_set_days() {
        let lcr = directory::partnership("LCR-PPA").unwrap();
        let to = offer_to(lcr, directory::SEFTON);
        assert_eq!(to.len(), 5);
        assert!(to.contains(&directory::KNOWSLEY.to_owned()));
        assert!(!to.contains(&directory::SEFTON.to_owned()));
        assert_eq!(offer_due_on(d(2025, 4, 1), 7), d(2025, 4, 8));
    }

    fn principal(org: &str, role: Role) -> Principal {
        Principal {
            sub: "u".into(),
            org: org.into(),
            roles: [role].into_iter().collect(),
        }
    }

    #[test]
    fn who_lets_and_who_sees() {
        let lcr = directory::partnership("LCR-PPA").unwrap();
        assert!(may_let(&principal(directory::SEFTON, Role::Commissioner), lcr).is_ok());
        assert!(may_let(&principal(directory::SEFTON, Role::SocialWorker), lcr).is_err());
        assert!(may_let(&principal(directory::NOTTINGHAM, Role::Commissioner), lcr).is_err());
        assert!(may_see(
            &principal(directory::KNOWSLEY, Role::SocialWorker),
            "LCR-PPA",
            "prov-care-assist"
        ));
        assert!(!may_see(
            &principal(directory::NOTTINGHAM, Role::Commissioner),
            "LCR-PPA",
            "prov-care-assist"
        ));
        assert!(may_see(
            &principal("prov-care-assist", Role::Provider),
            "LCR-PPA",
            "prov-care-assist"
        ));
        assert!(!may_see(
            &principal("prov-other", Role::Provider),
            "LCR-PPA",
            "prov-care-assist"
        ));
    }

    #[test]
    fn letting_requests_are_checked() {
        let ok: NewBlockContract = serde_json::from_value(serde_json::json!({
            "partnership": "LCR-PPA", "provider_id": "prov-care-assist", "beds": 4,
            "block_weekly_rate_pence": 198_800, "spot_weekly_rate_pence": 214_900,
            "start_date": "2025-04-01", "term_years": 3, "extension_options": 2,
            "held_for": ["E08000014", "E08000014", "E08000014", "E08000011"],
            "postcode_district": "L20"
        }))
        .unwrap();
        assert!(ok.validate().is_empty());
        assert_eq!(ok.end_date(), d(2028, 3, 31));
        assert_eq!(ok.void_offer_after_days(), 7);
        let bad: NewBlockContract = serde_json::from_value(serde_json::json!({
            "partnership": "LCR-PPA", "provider_id": " ", "beds": 2,
            "block_weekly_rate_pence": 0, "spot_weekly_rate_pence": 214_900,
            "start_date": "2025-04-01", "term_years": 0,
            "held_for": ["E08000014", "E06000018"], "postcode_district": "l20"
        }))
        .unwrap();
        let rules: Vec<(String, String)> = bad
            .validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        for expected in [
            ("/provider_id", "required"),
            ("/block_weekly_rate_pence", "positive"),
            ("/term_years", "range"),
            ("/held_for/1", "member"),
            ("/postcode_district", "format"),
        ] {
            assert!(
                rules.contains(&(expected.0.into(), expected.1.into())),
                "{expected:?} in {rules:?}"
            );
        }
        let mut huge = ok.clone();
        huge.block_weekly_rate_pence = i64::MAX;
        huge.spot_weekly_rate_pence = Pence::MAX_WEEKLY.0 + 1;
        let rules: Vec<(String, String)> = huge
            .validate()
            .into_iter()
            .map(|e| (e.field, e.rule))
            .collect();
        assert_eq!(
            rules,
            [
                ("/block_weekly_rate_pence".into(), "range".into()),
                ("/spot_weekly_rate_pence".into(), "range".into()),
            ]
        );
    }

    #[test]
    fn a_beds_state_and_standing_offer_follow_who_is_in_it() {
        let void = Bed {
            block_contract_id: BlockContractId::new(),
            bed: 1,
            held_for: "E08000014".into(),
            placement_id: None,
            void_from: Some(d(2025, 4, 1)),
            offered_on: None,
            offered_to: None,
        };
        assert_eq!((void.state(), void.current_offer()), ("void", vec![]));
        let offered = Bed {
            offered_on: Some(d(2025, 4, 8)),
            offered_to: Some(vec!["E08000012".into()]),
            ..void.clone()
        };
        assert_eq!(offered.state(), "offered");
        assert_eq!(offered.current_offer(), vec!["E08000012".to_owned()]);
        // A child in the bed: an offer recorded before does not stand.
        let occupied = Bed {
            placement_id: Some(PlacementId::new()),
            ..offered
        };
        assert_eq!(
            (occupied.state(), occupied.current_offer()),
            ("occupied", vec![])
        );
    }
}
