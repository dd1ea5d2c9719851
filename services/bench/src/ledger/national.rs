//! The synthetic nation: councils, the partnerships they commission through, and the facts
//! the contract service would have told finance over the years (placements with their rate
//! changes and ends, block contracts and their beds, service contracts). The same seed gives
//! the same nation, the same facts and so the same ledger (only ids differ).

use chrono::{Datelike, Days, NaiveDate};
use finance::domain::ledger::{BedChange, BedEvent, BlockTerms, RateStep};
use hub_platform::{
    Pence,
    calendar::FinancialYear,
    directory::{self, Council, Partnership},
};

/// A small, fast, seedable generator (SplitMix64): the bench needs repeatable data, not
/// cryptographic randomness.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// `amount` scaled by a factor uniform in `lo..hi`, to the penny.
    pub fn scale(&mut self, amount: i64, lo: f64, hi: f64) -> i64 {
        (amount as f64 * (lo + (hi - lo) * self.unit())).round() as i64
    }
}

/// The councils and partnerships of the bench, added to the directory so that the finance
/// service accepts them like the built-in ones. Council `i` is in partnership `i mod P`; the
/// first member of each partnership leads it and hosts its money.
pub struct National {
    pub councils: Vec<Council>,
    pub partnerships: Vec<Partnership>,
    /// Each council's partnership.
    pub partnership_of: Vec<usize>,
}

impl National {
    pub fn new(partnerships: usize, councils: usize) -> Self {
        let council_list: Vec<Council> = (1..=councils)
            .map(|i| Council {
                gss: format!("E99{i:06}").leak(),
                name: format!("National bench council {i:03}").leak(),
            })
            .collect();
        let partnership_of: Vec<usize> = (0..councils).map(|i| i % partnerships).collect();
        let partnership_list = (0..partnerships)
            .map(|p| {
                let members: Vec<&'static str> = council_list
                    .iter()
                    .zip(&partnership_of)
                    .filter(|(_, of)| **of == p)
                    .map(|(c, _)| c.gss)
                    .collect();
                let members: &'static [&'static str] = members.leak();
                Partnership {
                    code: format!("NAT-{:02}", p + 1).leak(),
                    name: format!("National bench partnership {:02}", p + 1).leak(),
                    members,
                    lead_commissioner: members[0],
                    finance_host: Some(members[0]),
                    local: None,
                }
            })
            .collect();
        Self {
            councils: council_list,
            partnerships: partnership_list,
            partnership_of,
        }
    }

    /// Adds the nation to this process's directory.
    pub fn register(&self) -> anyhow::Result<()> {
        directory::add(&self.councils, &self.partnerships).map_err(anyhow::Error::msg)
    }

    pub fn code(&self, p: usize) -> &'static str {
        self.partnerships[p].code
    }

    pub fn gss(&self, council: usize) -> &'static str {
        self.councils[council].gss
    }

    /// The council hosting partnership `p`'s money (its finance staff set budgets).
    pub fn host(&self, p: usize) -> &'static str {
        self.partnerships[p].members[0]
    }

    /// Council indices of partnership `p`'s members.
    pub fn members(&self, p: usize) -> Vec<usize> {
        (0..self.councils.len())
            .filter(|c| self.partnership_of[*c] == p)
            .collect()
    }
}

/// A placement under an order: what `contract.placement_started`, `…_rate_changed` and
/// `…_ended` told finance.
pub struct PlacementFact {
    pub id: String,
    pub order_id: String,
    pub referral_id: String,
    pub council: usize,
    pub provider: String,
    /// The start's figures (version 0).
    pub start: RateStep,
    /// IPA versions 1, 2, … in date order.
    pub changes: Vec<RateStep>,
    /// The last night, if it ended by the end of the last year.
    pub end: Option<NaiveDate>,
}

/// A block contract let for one year, with its bed events.
pub struct BlockFact {
    pub id: String,
    pub partnership: usize,
    pub provider: String,
    pub terms: BlockTerms,
    pub spot_weekly: i64,
    pub events: Vec<BedEvent>,
}

/// A service contract (commissioned support) let for a year, maybe extended or terminated.
pub struct ServiceFact {
    pub id: String,
    pub partnership: usize,
    pub provider: String,
    pub value: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The new end and the added value.
    pub extension: Option<(NaiveDate, i64)>,
    pub terminated_on: Option<NaiveDate>,
}

/// Everything finance was told.
pub struct Facts {
    pub placements: Vec<PlacementFact>,
    pub blocks: Vec<BlockFact>,
    pub services: Vec<ServiceFact>,
    pub first_year: i32,
    pub years: i32,
}

impl Facts {
    pub fn last_year(&self) -> i32 {
        self.first_year + self.years - 1
    }

    /// Where open placements are committed to: the end of the last year (each partnership's
    /// ledger is opened through it by its budgets).
    pub fn horizon(&self) -> NaiveDate {
        FinancialYear(self.last_year()).end()
    }
}

fn uuid() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn add_days(d: NaiveDate, n: i64) -> NaiveDate {
    d + Days::new(n as u64)
}

/// `placements` placements spread evenly over the years and the councils: a quarter in
/// residential homes (£3,800–£7,500 a week), the rest with foster carers (£750–£1,400), one
/// in five with extras; a third short (up to 90 days), under half up to two years, the rest
/// up to five; a 3% uplift every April and sometimes a reviewed rate mid-placement; those
/// that run past the last year have no end. Each partnership lets a block contract of four
/// beds and two service contracts every year.
pub fn facts(
    nation: &National,
    placements: usize,
    first_year: i32,
    years: i32,
    seed: u64,
) -> Facts {
    let mut rng = Rng::new(seed);
    let period = Span {
        first: FinancialYear(first_year).start(),
        last: FinancialYear(first_year + years - 1).end(),
    };
    let councils = nation.councils.len() as i64;
    let out = (0..placements)
        .map(|_| placement(&mut rng, councils, &period))
        .collect();
    let mut blocks = Vec::new();
    let mut services = Vec::new();
    for p in 0..nation.partnerships.len() {
        for year in first_year..first_year + years {
            let fy = FinancialYear(year);
            blocks.push(block(&mut rng, nation, p, fy));
            for _ in 0..2 {
                let extendable = year < first_year + years - 1;
                services.push(service(&mut rng, p, fy, extendable));
            }
        }
    }
    Facts {
        placements: out,
        blocks,
        services,
        first_year,
        years,
    }
}

/// The days the facts fall in: the first year's first day to the last year's last.
struct Span {
    first: NaiveDate,
    last: NaiveDate,
}

/// One of the 800 providers.
fn provider(rng: &mut Rng) -> String {
    format!("bench-provider-{:03}", rng.range(1, 800))
}

/// One placement of a council drawn at random (the draws in this order keep a seed's facts
/// the same from one version of the bench to the next).
fn placement(rng: &mut Rng, councils: i64, period: &Span) -> PlacementFact {
    let span = (period.last - period.first).num_days() + 1;
    let council = rng.range(0, councils - 1) as usize;
    let start = add_days(period.first, rng.range(0, span - 1));
    let residential = rng.chance(0.25);
    let weekly = if residential {
        rng.range(380_000, 750_000)
    } else {
        rng.range(75_000, 140_000)
    };
    let extras = if rng.chance(0.2) {
        rng.range(5_000, 40_000)
    } else {
        0
    };
    let duration = match rng.unit() {
        u if u < 0.35 => rng.range(1, 90),
        u if u < 0.80 => rng.range(91, 730),
        _ => rng.range(731, 1_800),
    };
    let last_night = add_days(start, duration - 1);
    let end = (last_night <= period.last).then_some(last_night);
    let stop = end.unwrap_or(period.last);
    let changes = rate_changes(rng, (start, stop), duration, span, (weekly, extras));
    PlacementFact {
        id: uuid(),
        order_id: uuid(),
        referral_id: uuid(),
        council,
        provider: provider(rng),
        start: RateStep {
            from: start,
            version: 0,
            weekly: Pence(weekly),
            extras: Pence(extras),
        },
        changes,
        end,
    }
}

/// A placement's rate changes in date order: each April's 3% uplift up to `stop`, and
/// maybe one review in between that moves the rate and redraws the extras.
fn rate_changes(
    rng: &mut Rng,
    (start, stop): (NaiveDate, NaiveDate),
    duration: i64,
    span: i64,
    (weekly, extras): (i64, i64),
) -> Vec<RateStep> {
    let mut dated: Vec<(NaiveDate, bool)> = Vec::new();
    let mut april =
        NaiveDate::from_ymd_opt(FinancialYear::containing(start).0 + 1, 4, 1).expect("1 April");
    while april <= stop {
        dated.push((april, true));
        april = april.with_year(april.year() + 1).expect("1 April");
    }
    if duration > 60 && rng.chance(0.3) {
        dated.push((
            add_days(start, rng.range(30, (duration - 1).min(span))),
            false,
        ));
    }
    dated.sort();
    let (mut w, mut x) = (weekly, extras);
    dated
        .into_iter()
        .filter(|(d, _)| *d <= stop)
        .enumerate()
        .map(|(i, (from, uplift))| {
            if uplift {
                w = w * 103 / 100;
            } else {
                w = rng.scale(w, 0.9, 1.15);
                x = if rng.chance(0.5) {
                    0
                } else {
                    rng.range(5_000, 40_000)
                };
            }
            RateStep {
                from,
                version: i as u32 + 1,
                weekly: Pence(w),
                extras: Pence(x),
            }
        })
        .collect()
}

/// Partnership `p`'s block contract of four beds for the year `fy`.
fn block(rng: &mut Rng, nation: &National, p: usize, fy: FinancialYear) -> BlockFact {
    let weekly = rng.range(350_000, 450_000);
    let beds = 4u16;
    let mut events = Vec::new();
    for bed in 1..=beds {
        bed_spells(rng, nation, p, fy, bed, &mut events);
    }
    BlockFact {
        id: uuid(),
        partnership: p,
        provider: provider(rng),
        terms: BlockTerms {
            partnership: nation.code(p).to_owned(),
            beds,
            weekly: Pence(weekly),
            start: fy.start(),
            end: fy.end(),
        },
        spot_weekly: weekly * 6 / 5,
        events,
    }
}

/// One bed's filled and void spells in turn, from a few weeks into the year.
fn bed_spells(
    rng: &mut Rng,
    nation: &National,
    p: usize,
    fy: FinancialYear,
    bed: u16,
    events: &mut Vec<BedEvent>,
) {
    let members = nation.members(p);
    let member = |rng: &mut Rng| members[rng.range(0, members.len() as i64 - 1) as usize];
    let mut day = add_days(fy.start(), rng.range(0, 40));
    while day <= fy.end() {
        let child = member(rng);
        events.push(BedEvent {
            bed,
            from: day,
            change: BedChange::Filled {
                council: nation.gss(child).to_owned(),
            },
        });
        day = add_days(day, rng.range(30, 200));
        if day > fy.end() {
            break;
        }
        let holder = rng.chance(0.5).then(|| member(rng));
        events.push(BedEvent {
            bed,
            from: day,
            change: BedChange::Void {
                holder: holder.map(|h| nation.gss(h).to_owned()),
            },
        });
        day = add_days(day, rng.range(5, 60));
    }
}

/// One of partnership `p`'s two service contracts for `fy`: sometimes extended by half a
/// year (not in the last year), sometimes ended early.
fn service(rng: &mut Rng, p: usize, fy: FinancialYear, extendable: bool) -> ServiceFact {
    let value = rng.range(15_000_000, 60_000_000);
    let extension = (extendable && rng.chance(0.2)).then(|| (add_days(fy.end(), 183), value / 2));
    let terminated_on =
        (extension.is_none() && rng.chance(0.1)).then(|| add_days(fy.start(), rng.range(90, 300)));
    ServiceFact {
        id: uuid(),
        partnership: p,
        provider: provider(rng),
        value,
        start: fy.start(),
        end: fy.end(),
        extension,
        terminated_on,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nation_is_partnerships_of_councils_hosted_by_their_first_member() {
        let n = National::new(30, 150);
        assert_eq!(n.councils.len(), 150);
        assert!(n.partnerships.iter().all(|p| p.members.len() == 5));
        assert_eq!(n.partnerships[0].members[0], "E99000001");
        assert_eq!(n.host(1), "E99000002");
        assert_eq!(n.members(29), vec![29, 59, 89, 119, 149]);
    }

    #[test]
    fn facts_are_the_same_for_a_seed_and_inside_the_years() {
        let n = National::new(3, 9);
        let (a, b) = (facts(&n, 500, 2021, 5, 7), facts(&n, 500, 2021, 5, 7));
        let brief = |f: &Facts| {
            f.placements
                .iter()
                .map(|p| (p.council, p.start, p.changes.clone(), p.end))
                .collect::<Vec<_>>()
        };
        assert_eq!(brief(&a), brief(&b));
        let (first, last) = (FinancialYear(2021).start(), a.horizon());
        for p in &a.placements {
            assert!(p.start.from >= first && p.start.from <= last);
            assert!(p.end.is_none_or(|e| e >= p.start.from && e <= last));
            assert!(p.changes.windows(2).all(|w| w[0].from <= w[1].from));
        }
        assert!(a.placements.iter().any(|p| p.end.is_none()));
        assert!(a.placements.iter().any(|p| !p.changes.is_empty()));
        assert_eq!(a.blocks.len(), 15);
        assert_eq!(a.services.len(), 30);
    }
}
