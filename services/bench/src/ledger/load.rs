//! Building the national ledger: each source's commitment lines costed by finance's own
//! domain code ([`finance::domain::ledger`], as the service's handlers cost them), budgets set
//! through the finance service's API, and facts, lines and payments bulk-loaded with `COPY`.

use std::{collections::HashMap, io::Write as _, time::Duration};

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::{PgConnection, RunQueryDsl, connection::SimpleConnection, prelude::*};
use finance::{
    domain::ledger::{self, BedChange, CostLine, PLACEMENTS_LINE, SourceKind},
    store::{
        CommitmentRow,
        actuals::{PaymentRow, UploadRow},
        facts::{
            BedEventRow, BlockContractRow, ExtensionRow, PlacementEndRow, PlacementRow,
            RateChangeRow, ServiceContractRow, TerminationRow,
        },
        schema,
    },
};
use hub_platform::{Authenticator, Role, calendar::FinancialYear};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;
use serde_json::json;

use super::national::{BlockFact, Facts, National, PlacementFact, Rng, ServiceFact};

/// The budget lines besides placements: service contracts are charged to commissioned
/// support; staffing is budgeted and paid but has no contracts.
pub const SUPPORT_LINE: &str = "commissioned_support";
pub const STAFFING_LINE: &str = "staffing";

/// Sources costed per `COPY` of commitment lines.
const SOURCES_PER_COPY: usize = 2_000;

/// A source of commitment lines.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    Placement(&'a PlacementFact),
    Block(&'a BlockFact),
    Service(&'a ServiceFact),
}

impl Source<'_> {
    /// Every source, placements first.
    pub fn all(facts: &Facts) -> impl Iterator<Item = Source<'_>> {
        facts
            .placements
            .iter()
            .map(Source::Placement)
            .chain(facts.blocks.iter().map(Source::Block))
            .chain(facts.services.iter().map(Source::Service))
    }

    /// The source's lines, costed as `finance::handlers::commitments` costs them: a placement
    /// to its end or, open, to the end of the later of its start's year and `through_year`.
    pub fn lines(&self, nation: &National, through_year: i32) -> Vec<CostLine> {
        match self {
            Source::Placement(p) => {
                let year = FinancialYear::containing(p.start.from).0.max(through_year);
                ledger::placement_lines(
                    nation.gss(p.council),
                    p.start,
                    &p.changes,
                    p.end,
                    FinancialYear(year).end(),
                )
            }
            Source::Block(b) => {
                let events: Vec<_> = b.events.iter().map(|(e, _)| e.clone()).collect();
                ledger::block_lines(&b.terms, &events)
            }
            Source::Service(s) => ledger::service_contract_lines(
                nation.code(s.partnership),
                &s.tranches(),
                s.terminated_on,
            ),
        }
    }

    fn partnership(&self, nation: &National) -> usize {
        match self {
            Source::Placement(p) => nation.partnership_of[p.council],
            Source::Block(b) => b.partnership,
            Source::Service(s) => s.partnership,
        }
    }

    /// The rows finance stores for the lines (as `handlers::commitments` fills them).
    pub fn rows(
        &self,
        nation: &National,
        lines: Vec<CostLine>,
        now: NaiveDateTime,
    ) -> Vec<CommitmentRow> {
        let (kind, id, budget_line, contract_id, provider) = match self {
            Source::Placement(p) => (
                SourceKind::Placement,
                &p.id,
                PLACEMENTS_LINE,
                Some(&p.order_id),
                &p.provider,
            ),
            Source::Block(b) => (
                SourceKind::BlockBed,
                &b.id,
                PLACEMENTS_LINE,
                Some(&b.id),
                &b.provider,
            ),
            Source::Service(s) => (
                SourceKind::ServiceContract,
                &s.id,
                SUPPORT_LINE,
                Some(&s.id),
                &s.provider,
            ),
        };
        let partnership = nation.code(self.partnership(nation));
        lines
            .into_iter()
            .map(|l| CommitmentRow {
                id: uuid::Uuid::now_v7().to_string(),
                partnership: partnership.to_owned(),
                council: l.council,
                attribution: l.attribution.code().to_owned(),
                budget_line: budget_line.to_owned(),
                source_kind: kind.code().to_owned(),
                source_id: id.clone(),
                contract_id: contract_id.cloned(),
                bed: l.bed.map(i32::from),
                provider_id: provider.clone(),
                year: l.year.0,
                period: l.period as i32,
                from_date: l.from,
                to_date: l.to,
                days: l.days as i32,
                weekly_rate_pence: l.weekly.0,
                extras_weekly_pence: l.extras.0,
                amount_pence: l.amount.0,
                created_at: now,
                adjusts_year: None,
                adjusts_period: None,
                cause_event_type: None,
                cause_event_id: None,
            })
            .collect()
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
}

/// The first pass: every source costed, its lines summed (not kept).
pub fn sums(nation: &National, facts: &Facts, through_year: i32) -> Sums {
    let years = facts.years as usize;
    let (p_count, c_count) = (nation.partnerships.len(), nation.councils.len());
    let mut s = Sums {
        first_year: facts.first_year,
        years,
        by_year: vec![[0; 2]; p_count * years],
        by_period: vec![[0; 2]; c_count * years * 12],
        lines: vec![0; p_count * years],
        started: vec![0; c_count * years],
    };
    let council_index: HashMap<&str, usize> = nation
        .councils
        .iter()
        .enumerate()
        .map(|(i, c)| (c.gss, i))
        .collect();
    let in_range = |y: i32| (facts.first_year..=facts.last_year()).contains(&y);
    for p in &facts.placements {
        let y = FinancialYear::containing(p.start.from).0;
        s.started[p.council * years + (y - facts.first_year) as usize] += 1;
    }
    for source in Source::all(facts) {
        let p = source.partnership(nation);
        let line = usize::from(matches!(source, Source::Service(_)));
        for l in source.lines(nation, through_year) {
            if !in_range(l.year.0) {
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
pub fn plan_budgets(
    nation: &National,
    facts: &Facts,
    sums: &Sums,
    rng: &mut Rng,
) -> Vec<BudgetPlan> {
    let thousand = |pence: i64| (pence + 50_000) / 100_000 * 100_000;
    let mut plans = Vec::new();
    for p in 0..nation.partnerships.len() {
        for year in facts.first_year..=facts.last_year() {
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
    facts: &Facts,
    sums: &Sums,
    plans: &[BudgetPlan],
    bar: &ProgressBar,
) -> anyhow::Result<usize> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()?;
    let years = facts.years as usize;
    let mut created = 0;
    for p in 0..nation.partnerships.len() {
        let token = auth.mint(
            "bench-finance",
            nation.host(p),
            &[Role::Finance],
            Duration::from_secs(3600),
        );
        for year in facts.first_year..=facts.last_year() {
            let plan = &plans[sums.year_index(p, year)];
            let values: serde_json::Map<String, serde_json::Value> = nation
                .members(p)
                .into_iter()
                .map(|c| {
                    let n = sums.started[c * years + (year - facts.first_year) as usize];
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
    /// Rows of finance's per-period totals of the ledger and of payments, where the schema
    /// has them.
    pub ledger_totals: Option<usize>,
    pub payment_totals: Option<usize>,
}

/// One field of a `COPY … FROM STDIN` row in PostgreSQL's text format.
trait Field {
    fn put(&self, buf: &mut Vec<u8>);
}

impl Field for str {
    fn put(&self, buf: &mut Vec<u8>) {
        for b in self.bytes() {
            match b {
                b'\\' => buf.extend_from_slice(b"\\\\"),
                b'\t' => buf.extend_from_slice(b"\\t"),
                b'\n' => buf.extend_from_slice(b"\\n"),
                b'\r' => buf.extend_from_slice(b"\\r"),
                _ => buf.push(b),
            }
        }
    }
}

impl<T: Field + ?Sized> Field for &T {
    fn put(&self, buf: &mut Vec<u8>) {
        (**self).put(buf);
    }
}

impl Field for String {
    fn put(&self, buf: &mut Vec<u8>) {
        self.as_str().put(buf);
    }
}

impl<T: Field> Field for Option<T> {
    fn put(&self, buf: &mut Vec<u8>) {
        match self {
            Some(v) => v.put(buf),
            None => buf.extend_from_slice(b"\\N"),
        }
    }
}

macro_rules! display_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn put(&self, buf: &mut Vec<u8>) {
                let _ = write!(buf, "{self}");
            }
        }
    )*};
}
display_field!(i32, i64, NaiveDate);

impl Field for NaiveDateTime {
    fn put(&self, buf: &mut Vec<u8>) {
        let _ = write!(buf, "{}", self.format("%Y-%m-%d %H:%M:%S%.6f"));
    }
}

/// Appends one row: the fields in the table's column order, tab-separated.
macro_rules! row {
    ($buf:expr; $first:expr $(, $f:expr)* $(,)?) => {{
        let buf: &mut Vec<u8> = $buf;
        Field::put(&$first, buf);
        $( buf.push(b'\t'); Field::put(&$f, buf); )*
        buf.push(b'\n');
    }};
}

/// `COPY table FROM STDIN` (every column, in the schema's order) with rows written by `row!`.
macro_rules! copy_in {
    ($conn:expr, $table:expr, $data:expr) => {{
        let data: &[u8] = $data;
        diesel::copy_from($table)
            .from_raw_data($table, |w: &mut dyn std::io::Write| {
                w.write_all(data)
                    .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
            })
            .execute($conn)
    }};
}

// Each writer destructures finance's row type whole, so a column added to it fails to
// compile here rather than at the COPY.

fn put_line(buf: &mut Vec<u8>, r: &CommitmentRow) {
    let CommitmentRow {
        id,
        partnership,
        council,
        attribution,
        budget_line,
        source_kind,
        source_id,
        contract_id,
        bed,
        provider_id,
        year,
        period,
        from_date,
        to_date,
        days,
        weekly_rate_pence,
        extras_weekly_pence,
        amount_pence,
        created_at,
        adjusts_year,
        adjusts_period,
        cause_event_type,
        cause_event_id,
    } = r;
    row!(buf; id, partnership, council, attribution, budget_line, source_kind, source_id,
        contract_id, bed, provider_id, year, period, from_date, to_date, days,
        weekly_rate_pence, extras_weekly_pence, amount_pence, created_at, adjusts_year,
        adjusts_period, cause_event_type, cause_event_id);
}

fn put_placement(buf: &mut Vec<u8>, r: &PlacementRow) {
    let PlacementRow {
        placement_id,
        partnership,
        council,
        provider_id,
        order_id,
        referral_id,
        block_contract_id,
        bed,
        start_date,
        weekly_rate_pence,
        extras_weekly_pence,
        created_at,
    } = r;
    row!(buf; placement_id, partnership, council, provider_id, order_id, referral_id,
        block_contract_id, bed, start_date, weekly_rate_pence, extras_weekly_pence, created_at);
}

fn put_rate_change(buf: &mut Vec<u8>, r: &RateChangeRow) {
    let RateChangeRow {
        placement_id,
        ipa_version,
        partnership,
        council,
        effective_from,
        weekly_rate_pence,
        extras_weekly_pence,
        created_at,
    } = r;
    row!(buf; placement_id, ipa_version, partnership, council, effective_from,
        weekly_rate_pence, extras_weekly_pence, created_at);
}

fn put_end(buf: &mut Vec<u8>, r: &PlacementEndRow) {
    let PlacementEndRow {
        placement_id,
        partnership,
        council,
        end_date,
        reason,
        created_at,
    } = r;
    row!(buf; placement_id, partnership, council, end_date, reason, created_at);
}

fn put_block(buf: &mut Vec<u8>, r: &BlockContractRow) {
    let BlockContractRow {
        block_contract_id,
        partnership,
        lead_council,
        provider_id,
        beds,
        block_weekly_rate_pence,
        spot_weekly_rate_pence,
        start_date,
        end_date,
        planned_annual_saving_pence,
        created_at,
    } = r;
    row!(buf; block_contract_id, partnership, lead_council, provider_id, beds,
        block_weekly_rate_pence, spot_weekly_rate_pence, start_date, end_date,
        planned_annual_saving_pence, created_at);
}

fn put_bed_event(buf: &mut Vec<u8>, r: &BedEventRow) {
    let BedEventRow {
        block_contract_id,
        bed,
        effective_from,
        state,
        partnership,
        council,
        placement_id,
        created_at,
    } = r;
    row!(buf; block_contract_id, bed, effective_from, state, partnership, council,
        placement_id, created_at);
}

fn put_service(buf: &mut Vec<u8>, r: &ServiceContractRow) {
    let ServiceContractRow {
        contract_id,
        partnership,
        lead_council,
        provider_id,
        budget_line,
        value_pence,
        start_date,
        end_date,
        created_at,
    } = r;
    row!(buf; contract_id, partnership, lead_council, provider_id, budget_line, value_pence,
        start_date, end_date, created_at);
}

fn put_extension(buf: &mut Vec<u8>, r: &ExtensionRow) {
    let ExtensionRow {
        contract_id,
        extensions_used,
        partnership,
        previous_end_date,
        new_end_date,
        added_value_pence,
        created_at,
    } = r;
    row!(buf; contract_id, extensions_used, partnership, previous_end_date, new_end_date,
        added_value_pence, created_at);
}

fn put_termination(buf: &mut Vec<u8>, r: &TerminationRow) {
    let TerminationRow {
        contract_id,
        partnership,
        terminated_on,
        reason,
        created_at,
    } = r;
    row!(buf; contract_id, partnership, terminated_on, reason, created_at);
}

fn put_upload(buf: &mut Vec<u8>, r: &UploadRow) {
    let UploadRow {
        id,
        partnership,
        year,
        requested_period,
        posted_period,
        format,
        content_sha256,
        rows_read,
        applied,
        already_recorded,
        applied_pence,
        uploaded_by,
        uploaded_org,
        uploaded_at,
    } = r;
    row!(buf; id, partnership, year, requested_period, posted_period, format, content_sha256,
        rows_read, applied, already_recorded, applied_pence, uploaded_by, uploaded_org,
        uploaded_at);
}

fn put_payment(buf: &mut Vec<u8>, r: &PaymentRow) {
    let PaymentRow {
        id,
        upload_id,
        partnership,
        council,
        year,
        period,
        adjusts_period,
        budget_line,
        amount_pence,
        payment_reference,
        paid_on,
        provider_id,
        contract_id,
        line_no,
        created_at,
    } = r;
    row!(buf; id, upload_id, partnership, council, year, period, adjusts_period, budget_line,
        amount_pence, payment_reference, paid_on, provider_id, contract_id, line_no,
        created_at);
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

/// Loads the facts with `COPY`.
pub fn copy_facts(
    conn: &mut PgConnection,
    nation: &National,
    facts: &Facts,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let now = chrono::Utc::now().naive_utc();
    let (mut placements, mut changes, mut ends) = (Vec::new(), Vec::new(), Vec::new());
    for p in &facts.placements {
        let (partnership, council) = (
            nation.code(nation.partnership_of[p.council]).to_owned(),
            nation.gss(p.council).to_owned(),
        );
        put_placement(
            &mut placements,
            &PlacementRow {
                placement_id: p.id.clone(),
                partnership: partnership.clone(),
                council: council.clone(),
                provider_id: p.provider.clone(),
                order_id: Some(p.order_id.clone()),
                referral_id: Some(p.referral_id.clone()),
                block_contract_id: None,
                bed: None,
                start_date: p.start.from,
                weekly_rate_pence: p.start.weekly.0,
                extras_weekly_pence: p.start.extras.0,
                created_at: now,
            },
        );
        for c in &p.changes {
            put_rate_change(
                &mut changes,
                &RateChangeRow {
                    placement_id: p.id.clone(),
                    ipa_version: c.version as i32,
                    partnership: partnership.clone(),
                    council: council.clone(),
                    effective_from: c.from,
                    weekly_rate_pence: c.weekly.0,
                    extras_weekly_pence: c.extras.0,
                    created_at: now,
                },
            );
            counts.rate_changes += 1;
        }
        if let Some(end) = p.end {
            put_end(
                &mut ends,
                &PlacementEndRow {
                    placement_id: p.id.clone(),
                    partnership,
                    council,
                    end_date: end,
                    reason: "planned".to_owned(),
                    created_at: now,
                },
            );
            counts.placement_ends += 1;
        }
    }
    counts.placements = copy_in!(conn, schema::placements::table, &placements)?;
    copy_in!(conn, schema::placement_rate_changes::table, &changes)?;
    copy_in!(conn, schema::placement_ends::table, &ends)?;

    let (mut blocks, mut beds) = (Vec::new(), Vec::new());
    for b in &facts.blocks {
        let diff = b.spot_weekly - b.terms.weekly.0;
        put_block(
            &mut blocks,
            &BlockContractRow {
                block_contract_id: b.id.clone(),
                partnership: nation.code(b.partnership).to_owned(),
                lead_council: nation.host(b.partnership).to_owned(),
                provider_id: b.provider.clone(),
                beds: i32::from(b.terms.beds),
                block_weekly_rate_pence: b.terms.weekly.0,
                spot_weekly_rate_pence: b.spot_weekly,
                start_date: b.terms.start,
                end_date: b.terms.end,
                planned_annual_saving_pence: diff * 52 * i64::from(b.terms.beds),
                created_at: now,
            },
        );
        for (e, council) in &b.events {
            put_bed_event(
                &mut beds,
                &BedEventRow {
                    block_contract_id: b.id.clone(),
                    bed: i32::from(e.bed),
                    effective_from: e.from,
                    state: match e.change {
                        BedChange::Filled { .. } => "filled",
                        BedChange::Void { .. } => "void",
                    }
                    .to_owned(),
                    partnership: nation.code(b.partnership).to_owned(),
                    council: council.map(|c| nation.gss(c).to_owned()),
                    placement_id: None,
                    created_at: now,
                },
            );
            counts.bed_events += 1;
        }
    }
    counts.block_contracts = copy_in!(conn, schema::block_contracts::table, &blocks)?;
    copy_in!(conn, schema::bed_events::table, &beds)?;

    let (mut services, mut extensions, mut terminations) = (Vec::new(), Vec::new(), Vec::new());
    for s in &facts.services {
        let partnership = nation.code(s.partnership).to_owned();
        put_service(
            &mut services,
            &ServiceContractRow {
                contract_id: s.id.clone(),
                partnership: partnership.clone(),
                lead_council: nation.host(s.partnership).to_owned(),
                provider_id: s.provider.clone(),
                budget_line: SUPPORT_LINE.to_owned(),
                value_pence: s.value,
                start_date: s.start,
                end_date: s.end,
                created_at: now,
            },
        );
        if let Some((new_end, added)) = s.extension {
            put_extension(
                &mut extensions,
                &ExtensionRow {
                    contract_id: s.id.clone(),
                    extensions_used: 1,
                    partnership: partnership.clone(),
                    previous_end_date: s.end,
                    new_end_date: new_end,
                    added_value_pence: added,
                    created_at: now,
                },
            );
            counts.extensions += 1;
        }
        if let Some(on) = s.terminated_on {
            put_termination(
                &mut terminations,
                &TerminationRow {
                    contract_id: s.id.clone(),
                    partnership,
                    terminated_on: on,
                    reason: "no longer needed".to_owned(),
                    created_at: now,
                },
            );
            counts.terminations += 1;
        }
    }
    counts.service_contracts = copy_in!(conn, schema::service_contracts::table, &services)?;
    copy_in!(
        conn,
        schema::service_contract_extensions::table,
        &extensions
    )?;
    copy_in!(
        conn,
        schema::service_contract_terminations::table,
        &terminations
    )?;
    Ok(())
}

/// Costs every source again (the same lines as the first pass) and loads the lines with
/// `COPY`, a chunk of sources at a time: one thread costs and writes the next chunk while
/// PostgreSQL takes the last.
pub fn copy_lines(
    conn: &mut PgConnection,
    nation: &National,
    facts: &Facts,
    through_year: i32,
    bar: &ProgressBar,
) -> anyhow::Result<usize> {
    let sources: Vec<Source<'_>> = Source::all(facts).collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<(usize, Vec<u8>)>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let now = chrono::Utc::now().naive_utc();
            for chunk in sources.chunks(SOURCES_PER_COPY) {
                let mut buf = Vec::with_capacity(chunk.len() * 16 * 220);
                for s in chunk {
                    for r in s.rows(nation, s.lines(nation, through_year), now) {
                        put_line(&mut buf, &r);
                    }
                }
                if tx.send((chunk.len(), buf)).is_err() {
                    return;
                }
            }
        });
        let mut lines = 0;
        for (n, buf) in rx {
            lines += copy_in!(conn, schema::commitment_lines::table, &buf)
                .context("copying commitment lines")?;
            bar.inc(n as u64);
        }
        Ok(lines)
    })
}

/// Payments for every period of every year, as if each were uploaded once: per member
/// council, its placements' cost for the period (97–103% of what the ledger committed) in
/// `per_period` payments and the commissioned support as one; the host's staffing (a
/// twelfth of the budget, 95–105%). One upload per partnership and period. Returns the
/// uploads and payments loaded.
pub fn copy_payments(
    conn: &mut PgConnection,
    nation: &National,
    facts: &Facts,
    sums: &Sums,
    plans: &[BudgetPlan],
    per_period: usize,
    rng: &mut Rng,
) -> anyhow::Result<(usize, usize)> {
    let now = chrono::Utc::now().naive_utc();
    let (mut uploads, mut payments) = (Vec::new(), Vec::new());
    for p in 0..nation.partnerships.len() {
        let code = nation.code(p);
        let members = nation.members(p);
        for year in facts.first_year..=facts.last_year() {
            let plan = &plans[sums.year_index(p, year)];
            for period in 1..=12 {
                let upload_id = uuid::Uuid::now_v7();
                let paid_on = FinancialYear(year).period(period as u32).1;
                let mut rows: Vec<PaymentRow> = Vec::new();
                let mut pay = |council: &str, line: &str, amount: i64, n: usize| {
                    if amount == 0 {
                        return;
                    }
                    let n = n.max(1) as i64;
                    for i in 0..n {
                        // Split into n, the remainder on the first.
                        let part = amount / n + if i == 0 { amount % n } else { 0 };
                        rows.push(PaymentRow {
                            id: uuid::Uuid::now_v7().to_string(),
                            upload_id: upload_id.to_string(),
                            partnership: code.to_owned(),
                            council: council.to_owned(),
                            year,
                            period,
                            adjusts_period: None,
                            budget_line: line.to_owned(),
                            amount_pence: part,
                            payment_reference: format!("BENCH-{year}-P{period:02}-{line}-{i}"),
                            paid_on,
                            provider_id: None,
                            contract_id: None,
                            line_no: 0,
                            created_at: now,
                        });
                    }
                };
                for &c in &members {
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
                for (i, r) in rows.iter_mut().enumerate() {
                    r.line_no = i as i32 + 2;
                    put_payment(&mut payments, r);
                }
                let total: i64 = rows.iter().map(|r| r.amount_pence).sum();
                put_upload(
                    &mut uploads,
                    &UploadRow {
                        id: upload_id.to_string(),
                        partnership: code.to_owned(),
                        year,
                        requested_period: period,
                        posted_period: period,
                        format: "csv".to_owned(),
                        content_sha256: format!(
                            "{}{}",
                            upload_id.simple(),
                            uuid::Uuid::now_v7().simple()
                        ),
                        rows_read: rows.len() as i32,
                        applied: rows.len() as i32,
                        already_recorded: 0,
                        applied_pence: total,
                        uploaded_by: "bench-finance".to_owned(),
                        uploaded_org: nation.host(p).to_owned(),
                        uploaded_at: now,
                    },
                );
            }
        }
    }
    let uploads = copy_in!(conn, schema::uploads::table, &uploads)?;
    let payments = copy_in!(conn, schema::payments::table, &payments)?;
    Ok((uploads, payments))
}

/// Finance's per-period totals kept beside the rows they sum (each recompute or upload
/// moves them in the same transaction), rebuilt from the rows loaded as the tables'
/// migrations fill them; `None` for a table the schema does not have.
pub fn rebuild_totals(conn: &mut PgConnection, counts: &mut Counts) -> anyhow::Result<()> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        found: bool,
    }
    let mut rebuild = |table: &str, from: &str, key: &str| -> anyhow::Result<Option<usize>> {
        let f: Found = diesel::sql_query(format!(
            "SELECT to_regclass('{table}') IS NOT NULL AS found"
        ))
        .get_result(conn)?;
        if !f.found {
            return Ok(None);
        }
        conn.batch_execute(&format!("DELETE FROM {table}"))?;
        let n = diesel::sql_query(format!(
            "INSERT INTO {table} ({key}, amount_pence) \
             SELECT {key}, SUM(amount_pence) FROM {from} GROUP BY {key}"
        ))
        .execute(conn)?;
        Ok(Some(n))
    };
    counts.ledger_totals = rebuild(
        "ledger_totals",
        "commitment_lines",
        "partnership, year, period, budget_line, council, attribution",
    )?;
    counts.payment_totals = rebuild(
        "payment_totals",
        "payments",
        "partnership, year, period, budget_line, council",
    )?;
    Ok(())
}
