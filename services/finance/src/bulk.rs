//! Loading a whole ledger at once: the facts the contract service would have told finance over
//! years, and the payments partners would have uploaded, written in one pass at a scale the
//! event path would take hours to fill (`hub bench ledger` builds a national ledger with it).
//!
//! Rules:
//! * The inputs are domain-level ([`Ledger`]): facts as the contract events carry them and
//!   payments as uploads carry them. Each source's commitment lines are costed here as
//!   [`crate::app::commitments`] costs them (the same [`crate::domain::ledger`]
//!   functions, the same rows), open-ended placements to the horizon of a ledger open
//!   through [`load`]'s `through_year`.
//! * The database is finance's own, migrated and holding no facts, lines or payments yet;
//!   budgets are set first through the API (`POST /v1/budgets`), which opens each
//!   partnership's ledger through its year: [`load`] refuses a partnership whose ledger is not
//!   open through `through_year`, since its open placements would be costed to another
//!   horizon than the handlers would cost them to.
//! * PostgreSQL only: rows go in with `COPY`. Nothing is checked as an event or an upload
//!   would be; the caller vouches for the facts (ids unique, councils of the partnership).
//! * The per-period totals kept beside the lines and the payments (`ledger_totals`,
//!   `payment_totals`) are rebuilt from them as their migrations fill them, then `ANALYZE`
//!   runs, so the service reads the load as it reads what its handlers write.

mod copy;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::NaiveDate;
use diesel::{RunQueryDsl, connection::SimpleConnection};
use hub_platform::{Pence, calendar::FinancialYear, db::DbConnection};

use crate::{
    app::commitments,
    domain::{
        ledger::{
            self, BlockTerms, CostLine, PLACEMENTS_LINE, Posted, RateStep, SourceKind, Tranche,
        },
        lines::CommitmentLine,
    },
    ids::{BlockContractId, ContractId, OrderId, PlacementId, ServiceContractId, SourceId},
    store,
};

/// What the rows of a load were caused by (tagged only on adjustments, and a load posts
/// none).
const LOADED: commitments::Cause = commitments::Cause {
    event_type: "finance.bulk_load",
    event_id: "",
};

/// A placement under an order: what `contract.placement_started`, `…_rate_changed` and
/// `…_ended` say.
#[derive(Debug, Clone)]
pub struct Placement {
    pub id: String,
    pub partnership: String,
    /// The council whose child it is.
    pub council: String,
    pub provider: String,
    pub order_id: String,
    pub referral_id: String,
    /// The start's figures (version 0).
    pub start: RateStep,
    /// IPA versions 1, 2, … in date order.
    pub changes: Vec<RateStep>,
    /// The last night, if it has ended.
    pub end: Option<NaiveDate>,
}

/// A block contract and its bed events (`contract.block_contract_let`, `…bed_filled`,
/// `…bed_void`); the partnership is the terms'.
#[derive(Debug, Clone)]
pub struct Block {
    pub id: String,
    pub lead_council: String,
    pub provider: String,
    pub terms: BlockTerms,
    pub spot_weekly: Pence,
    pub events: Vec<ledger::BedEvent>,
}

/// A service contract (`contract.service_contract_let`), maybe extended once or terminated.
#[derive(Debug, Clone)]
pub struct ServiceContract {
    pub id: String,
    pub partnership: String,
    pub lead_council: String,
    pub provider: String,
    pub budget_line: String,
    pub value: Pence,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// The new end and the value added.
    pub extension: Option<(NaiveDate, Pence)>,
    pub terminated_on: Option<NaiveDate>,
}

/// One upload of payments for a partnership's period, recorded in that period.
#[derive(Debug, Clone)]
pub struct Upload {
    pub partnership: String,
    pub year: i32,
    pub period: i32,
    /// Who uploaded it: the user and their organisation.
    pub uploaded_by: String,
    pub uploaded_org: String,
    pub payments: Vec<Payment>,
}

#[derive(Debug, Clone)]
pub struct Payment {
    pub council: String,
    pub budget_line: String,
    pub amount: Pence,
    pub reference: String,
    pub paid_on: NaiveDate,
}

/// Everything loaded.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    pub placements: Vec<Placement>,
    pub blocks: Vec<Block>,
    pub services: Vec<ServiceContract>,
    pub uploads: Vec<Upload>,
}

/// A source of commitment lines.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    Placement(&'a Placement),
    Block(&'a Block),
    Service(&'a ServiceContract),
}

impl Ledger {
    /// Every source, placements first.
    pub fn sources(&self) -> impl Iterator<Item = Source<'_>> {
        self.placements
            .iter()
            .map(Source::Placement)
            .chain(self.blocks.iter().map(Source::Block))
            .chain(self.services.iter().map(Source::Service))
    }
}

impl<'a> Source<'a> {
    pub fn partnership(&self) -> &'a str {
        match self {
            Source::Placement(p) => &p.partnership,
            Source::Block(b) => &b.terms.partnership,
            Source::Service(s) => &s.partnership,
        }
    }

    /// The budget line its lines are charged to.
    pub fn budget_line(&self) -> &'a str {
        match self {
            Source::Placement(_) | Source::Block(_) => PLACEMENTS_LINE,
            Source::Service(s) => &s.budget_line,
        }
    }

    /// Its lines as the handlers cost them with the partnership's ledger open through
    /// `through_year`.
    pub fn lines(&self, through_year: i32) -> Vec<CostLine> {
        match self {
            Source::Placement(p) => ledger::placement_lines(
                &p.council,
                p.start,
                &p.changes,
                p.end,
                ledger::horizon(p.start.from, Some(through_year)),
            ),
            Source::Block(b) => ledger::block_lines(&b.terms, &b.events),
            Source::Service(s) => {
                let mut tranches = vec![Tranche {
                    from: s.start,
                    to: s.end,
                    value: s.value,
                }];
                if let Some((to, value)) = s.extension {
                    tranches.push(Tranche {
                        from: s.end.succ_opt().expect("dates continue"),
                        to,
                        value,
                    });
                }
                ledger::service_contract_lines(&s.partnership, &tranches, s.terminated_on)
            }
        }
    }

    /// The lines the handlers would post for `lines` (no closed period: no adjustments).
    fn posted(&self, lines: Vec<CostLine>) -> anyhow::Result<Vec<CommitmentLine>> {
        let (kind, id, contract_id, provider_id): (_, SourceId, ContractId, _) = match self {
            Source::Placement(p) => (
                SourceKind::Placement,
                id::<PlacementId>(&p.id, "placement")?.into(),
                id::<OrderId>(&p.order_id, "order")?.into(),
                &p.provider,
            ),
            Source::Block(b) => {
                let id = id::<BlockContractId>(&b.id, "block contract")?;
                (SourceKind::BlockBed, id.into(), id.into(), &b.provider)
            }
            Source::Service(s) => {
                let id = id::<ServiceContractId>(&s.id, "service contract")?;
                (
                    SourceKind::ServiceContract,
                    id.into(),
                    id.into(),
                    &s.provider,
                )
            }
        };
        let source = commitments::Source {
            kind,
            id,
            partnership: self.partnership(),
            budget_line: self.budget_line(),
            contract_id: Some(contract_id),
            provider_id,
        };
        let posted = lines
            .into_iter()
            .map(|line| Posted {
                line,
                adjusts: None,
            })
            .collect();
        Ok(commitments::lines(&source, posted, LOADED))
    }
}

/// A bulk id as the typed id it is: the caller vouches that ids are UUIDs, and one that is not
/// stops the load.
pub(crate) fn id<T: std::str::FromStr<Err = uuid::Error>>(
    s: &str,
    what: &str,
) -> anyhow::Result<T> {
    s.parse()
        .with_context(|| format!("the {what} id `{s}` is not a UUID"))
}

/// Rows written, by table.
#[derive(Debug, Clone, Default)]
pub struct Counts {
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
    pub ledger_totals: usize,
    pub payment_totals: usize,
}

/// How long each step of [`load`] took.
#[derive(Debug, Clone, Default)]
pub struct Times {
    pub facts: Duration,
    pub lines: Duration,
    pub payments: Duration,
    pub totals: Duration,
    pub analyze: Duration,
}

/// Loads `ledger` into finance's database on `conn` (see the module's rules), costing
/// open-ended placements with every partnership's ledger open through `through_year`.
/// `progress` is told how many sources' lines have gone in after each `COPY` of lines.
pub fn load(
    conn: &mut DbConnection,
    ledger: &Ledger,
    through_year: i32,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<(Counts, Times)> {
    open_through(conn, ledger, through_year)?;
    let DbConnection::Pg(conn) = conn else {
        anyhow::bail!("a bulk load needs PostgreSQL (COPY)");
    };
    let (mut counts, mut times) = (Counts::default(), Times::default());
    let timed = |took: &mut Duration, started: Instant| *took = started.elapsed();
    let t = Instant::now();
    copy::facts(conn, ledger, &mut counts)?;
    timed(&mut times.facts, t);
    let t = Instant::now();
    counts.commitment_lines = copy::lines(conn, ledger, through_year, progress)?;
    timed(&mut times.lines, t);
    let t = Instant::now();
    (counts.uploads, counts.payments) = copy::payments(conn, &ledger.uploads)?;
    timed(&mut times.payments, t);
    let t = Instant::now();
    (counts.ledger_totals, counts.payment_totals) = rebuild_totals(conn)?;
    timed(&mut times.totals, t);
    let t = Instant::now();
    conn.batch_execute("ANALYZE")?;
    timed(&mut times.analyze, t);
    Ok((counts, times))
}

/// Refuses the load unless every partnership of `ledger` has its ledger open through
/// `through_year`.
fn open_through(conn: &mut DbConnection, ledger: &Ledger, through_year: i32) -> anyhow::Result<()> {
    let partnerships: std::collections::BTreeSet<&str> =
        ledger.sources().map(|s| s.partnership()).collect();
    for p in partnerships {
        let through = store::through_year(conn, p)?;
        anyhow::ensure!(
            through == Some(through_year),
            "the ledger of {p} is open through {through:?}, not {through_year} ({}): set its \
             budgets through the API first",
            FinancialYear(through_year).label()
        );
    }
    Ok(())
}

/// The totals kept beside the lines and the payments, rebuilt from them as the tables'
/// migrations fill them: rows written to `ledger_totals` and to `payment_totals`.
fn rebuild_totals(conn: &mut diesel::PgConnection) -> anyhow::Result<(usize, usize)> {
    let mut rebuild = |table: &str, from: &str, key: &str| -> anyhow::Result<usize> {
        conn.batch_execute(&format!("DELETE FROM {table}"))?;
        diesel::sql_query(format!(
            "INSERT INTO {table} ({key}, amount_pence) \
             SELECT {key}, SUM(amount_pence) FROM {from} GROUP BY {key}"
        ))
        .execute(conn)
        .with_context(|| format!("rebuilding {table}"))
    };
    Ok((
        rebuild(
            "ledger_totals",
            "commitment_lines",
            "partnership, year, period, budget_line, council, attribution",
        )?,
        rebuild(
            "payment_totals",
            "payments",
            "partnership, year, period, budget_line, council",
        )?,
    ))
}
