//! Building the national ledger: the nation's facts handed to finance's bulk load
//! ([`finance::bulk`], which costs each source's commitment lines as the service's handlers
//! cost them and loads them with `COPY`), after a first pass over the same lines plans the
//! budgets, set through the finance service's API, and the payments.

use std::{collections::HashMap, ops::RangeInclusive, time::Duration};

use finance::{
    bulk::{self, Source},
    domain::ledger::PLACEMENTS_LINE,
};
use hub_platform::{Authenticator, Pence, Role, calendar::FinancialYear};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use super::national::{Facts, National, Rng};

/// The budget lines besides placements: service contracts are charged to commissioned
/// support; staffing is budgeted and paid but has no contracts.
pub const SUPPORT_LINE: &str = "commissioned_support";
pub const STAFFING_LINE: &str = "staffing";

/// The facts as finance's bulk load takes them: the nation's indices become its codes.
pub fn ledger(nation: &National, facts: Facts) -> bulk::Ledger {
    let placements = facts
        .placements
        .into_iter()
        .map(|p| bulk::Placement {
            partnership: nation.code(nation.partnership_of[p.council]).to_owned(),
            council: nation.gss(p.council).to_owned(),
            id: p.id,
            provider: p.provider,
            order_id: p.order_id,
            referral_id: p.referral_id,
            start: p.start,
            changes: p.changes,
            end: p.end,
        })
        .collect();
    let blocks = facts
        .blocks
        .into_iter()
        .map(|b| bulk::Block {
            lead_council: nation.host(b.partnership).to_owned(),
            id: b.id,
            provider: b.provider,
            terms: b.terms,
            spot_weekly: Pence(b.spot_weekly),
            events: b.events,
        })
        .collect();
    let services = facts
        .services
        .into_iter()
        .map(|s| bulk::ServiceContract {
            partnership: nation.code(s.partnership).to_owned(),
            lead_council: nation.host(s.partnership).to_owned(),
            budget_line: SUPPORT_LINE.to_owned(),
            id: s.id,
            provider: s.provider,
            value: Pence(s.value),
            start: s.start,
            end: s.end,
            extension: s.extension.map(|(to, added)| (to, Pence(added))),
            terminated_on: s.terminated_on,
        })
        .collect();
    bulk::Ledger {
        placements,
        blocks,
        services,
        uploads: Vec::new(),
    }
}

/// What the ledger commits, summed for budgets and payments (a first pass over the sources).
pub struct Sums {
    first_year: i32,
    years: usize,
    /// By partnership and year: placements, commissioned support.
    pub by_year: Vec<[i64; 2]>,
    /// By council, year and period: placements, commissioned support.
    pub by_period: Vec<[i64; 2]>,
    /// Lines by partnership and year.
    pub lines: Vec<u64>,
    /// Placements starting by council and year (the activity the budgets split by).
    pub started: Vec<i64>,
}

impl Sums {
    pub fn year_index(&self, p: usize, year: i32) -> usize {
        p * self.years + (year - self.first_year) as usize
    }

    fn period_index(&self, council: usize, year: i32, period: i32) -> usize {
        (council * self.years + (year - self.first_year) as usize) * 12 + period as usize - 1
    }

    pub fn committed(&self, council: usize, year: i32, period: i32) -> [i64; 2] {
        self.by_period[self.period_index(council, year, period)]
    }

    /// The years built.
    pub fn years(&self) -> RangeInclusive<i32> {
        self.first_year..=self.first_year + self.years as i32 - 1
    }

    /// The index of `year` among them.
    fn year(&self, year: i32) -> usize {
        (year - self.first_year) as usize
    }
}

/// The first pass: every source costed as the load will cost it, its lines summed (not
/// kept); `years` from `first_year`, open placements committed to the end of the last.
pub fn sums(nation: &National, ledger: &bulk::Ledger, first_year: i32, years: i32) -> Sums {
    let (p_count, c_count) = (nation.partnerships.len(), nation.councils.len());
    let mut s = Sums {
        first_year,
        years: years as usize,
        by_year: vec![[0; 2]; p_count * years as usize],
        by_period: vec![[0; 2]; c_count * years as usize * 12],
        lines: vec![0; p_count * years as usize],
        started: vec![0; c_count * years as usize],
    };
    let council_index: HashMap<&str, usize> = nation
        .councils
        .iter()
        .enumerate()
        .map(|(i, c)| (c.gss, i))
        .collect();
    let partnership_index: HashMap<&str, usize> =
        (0..p_count).map(|p| (nation.code(p), p)).collect();
    for p in &ledger.placements {
        let y = s.year(FinancialYear::containing(p.start.from).0);
        s.started[council_index[p.council.as_str()] * s.years + y] += 1;
    }
    let through_year = *s.years().end();
    for source in ledger.sources() {
        let p = partnership_index[source.partnership()];
        let line = usize::from(matches!(source, Source::Service(_)));
        for l in source.lines(through_year) {
            if !s.years().contains(&l.year.0) {
                continue;
            }
            let yi = s.year_index(p, l.year.0);
            s.by_year[yi][line] += l.amount.0;
            s.lines[yi] += 1;
            // The partnership's own lines (pooled contracts, unheld beds) carry its code; its
            // hosting authority pays them.
            let c = *council_index
                .get(l.council.as_str())
                .unwrap_or(&council_index[nation.host(p)]);
            let pi = s.period_index(c, l.year.0, l.period as i32);
            s.by_period[pi][line] += l.amount.0;
        }
    }
    s
}

/// A partnership's budget for a year, as the hosting authority sets it.
pub struct BudgetPlan {
    pub placements: i64,
    pub support: i64,
    pub staffing: i64,
}

/// Budgets near what the ledger will commit (placements 94–104%, so some partnerships
/// overspend), staffing £300k–£900k; rounded to £1,000.
pub fn plan_budgets(nation: &National, sums: &Sums, rng: &mut Rng) -> Vec<BudgetPlan> {
    let thousand = |pence: i64| (pence + 50_000) / 100_000 * 100_000;
    let mut plans = Vec::new();
    for p in 0..nation.partnerships.len() {
        for year in sums.years() {
            let [placements, support] = sums.by_year[sums.year_index(p, year)];
            plans.push(BudgetPlan {
                placements: thousand(rng.scale(placements, 0.94, 1.04)),
                support: thousand(support),
                staffing: thousand(rng.range(30_000_000, 90_000_000)),
            });
        }
    }
    plans
}

/// Sets every partnership's budget for every year through `POST /v1/budgets`, as its hosting
/// authority's finance staff: 40% split equally, 60% by children placed that year. Each
/// also opens the partnership's ledger through the year (before any placement is loaded, so
/// there is nothing to recompute).
pub async fn set_budgets(
    url: &str,
    auth: &Authenticator,
    nation: &National,
    sums: &Sums,
    plans: &[BudgetPlan],
    bar: &ProgressBar,
) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let mut created = 0;
    for p in 0..nation.partnerships.len() {
        let token = auth.mint(
            "bench-finance",
            nation.host(p),
            &[Role::Finance],
            Duration::from_secs(3600),
        );
        for year in sums.years() {
            let plan = &plans[sums.year_index(p, year)];
            let values: serde_json::Map<String, serde_json::Value> = nation
                .members(p)
                .into_iter()
                .map(|c| {
                    let n = sums.started[c * sums.years + sums.year(year)];
                    (nation.gss(c).to_owned(), json!(n.max(1)))
                })
                .collect();
            let body = json!({
                "partnership": nation.code(p),
                "year": year,
                "lines": [
                    {"budget_line": PLACEMENTS_LINE, "amount_pence": plan.placements},
                    {"budget_line": SUPPORT_LINE, "amount_pence": plan.support},
                    {"budget_line": STAFFING_LINE, "amount_pence": plan.staffing},
                ],
                "costing_model": {"method": "blend", "parts": [
                    {"name": "base", "share_bp": 4000, "model": {"method": "equal"}},
                    {"name": "activity", "share_bp": 6000, "model": {
                        "method": "activity", "measure": "children_placed", "values": values}},
                ]},
                "reason": "national-scale bench",
            });
            let r = client
                .post(format!("{url}/v1/budgets"))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await?;
            let status = r.status();
            anyhow::ensure!(
                status.as_u16() == 201,
                "POST /v1/budgets for {} {year}: {status} {}",
                nation.code(p),
                r.text().await.unwrap_or_default()
            );
            created += 1;
            bar.inc(1);
        }
    }
    Ok(created)
}

/// Rows written by the load, by table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub partnerships: usize,
    pub councils: usize,
    pub budgets: usize,
    pub placements: usize,
    pub rate_changes: usize,
    pub placement_ends: usize,
    pub block_contracts: usize,
    pub bed_events: usize,
    pub service_contracts: usize,
    pub extensions: usize,
    pub terminations: usize,
    pub commitment_lines: usize,
    pub uploads: usize,
    pub payments: usize,
    /// Rows of finance's per-period totals of the ledger and of payments.
    pub ledger_totals: usize,
    pub payment_totals: usize,
}

impl Counts {
    /// The nation's and the budgets' counts beside the rows the bulk load wrote.
    pub fn new(nation: &National, budgets: usize, loaded: &bulk::Counts) -> Self {
        Self {
            partnerships: nation.partnerships.len(),
            councils: nation.councils.len(),
            budgets,
            placements: loaded.placements,
            rate_changes: loaded.rate_changes,
            placement_ends: loaded.placement_ends,
            block_contracts: loaded.block_contracts,
            bed_events: loaded.bed_events,
            service_contracts: loaded.service_contracts,
            extensions: loaded.extensions,
            terminations: loaded.terminations,
            commitment_lines: loaded.commitment_lines,
            uploads: loaded.uploads,
            payments: loaded.payments,
            ledger_totals: loaded.ledger_totals,
            payment_totals: loaded.payment_totals,
        }
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:28} [{bar:36}] {pos}/{len} {elapsed} (eta {eta})")
        .expect("a valid template")
        .progress_chars("=> ")
}

/// A progress bar on the terminal, or none (`quiet`, or stderr is not a terminal).
pub fn bar(len: u64, msg: &'static str, quiet: bool) -> ProgressBar {
    let bar = if quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(len)
    };
    bar.set_style(bar_style());
    bar.set_message(msg);
    bar
}

/// Payments for every period of every year, as if each were uploaded once: per member
/// council, its placements' cost for the period (97–103% of what the ledger committed) in
/// `per_period` payments and the commissioned support as one; the host's staffing (a
/// twelfth of the budget, 95–105%). One upload per partnership and period.
pub fn uploads(
    nation: &National,
    sums: &Sums,
    plans: &[BudgetPlan],
    per_period: usize,
    rng: &mut Rng,
) -> Vec<bulk::Upload> {
    let mut uploads = Vec::new();
    for p in 0..nation.partnerships.len() {
        for year in sums.years() {
            let plan = &plans[sums.year_index(p, year)];
            for period in 1..=12 {
                let payments =
                    period_payments(nation, sums, p, plan, (year, period), per_period, rng);
                uploads.push(bulk::Upload {
                    partnership: nation.code(p).to_owned(),
                    year,
                    period,
                    uploaded_by: "bench-finance".to_owned(),
                    uploaded_org: nation.host(p).to_owned(),
                    payments,
                });
            }
        }
    }
    uploads
}

/// Partnership `p`'s payments for one period (see [`uploads`]).
fn period_payments(
    nation: &National,
    sums: &Sums,
    p: usize,
    plan: &BudgetPlan,
    (year, period): (i32, i32),
    per_period: usize,
    rng: &mut Rng,
) -> Vec<bulk::Payment> {
    let paid_on = FinancialYear(year).period(period as u32).1;
    let mut payments = Vec::new();
    let mut pay = |council: &str, line: &str, amount: i64, n: usize| {
        if amount == 0 {
            return;
        }
        let n = n.max(1) as i64;
        for i in 0..n {
            // Split into n, the remainder on the first.
            let part = amount / n + if i == 0 { amount % n } else { 0 };
            payments.push(bulk::Payment {
                council: council.to_owned(),
                budget_line: line.to_owned(),
                amount: Pence(part),
                reference: format!("BENCH-{year}-P{period:02}-{line}-{i}"),
                paid_on,
            });
        }
    };
    for c in nation.members(p) {
        let [placements, support] = sums.committed(c, year, period);
        pay(
            nation.gss(c),
            PLACEMENTS_LINE,
            rng.scale(placements, 0.97, 1.03),
            per_period,
        );
        pay(nation.gss(c), SUPPORT_LINE, support, 1);
    }
    pay(
        nation.host(p),
        STAFFING_LINE,
        rng.scale(plan.staffing / 12, 0.95, 1.05),
        1,
    );
    payments
}
