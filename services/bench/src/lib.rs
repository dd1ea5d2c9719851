//! `hub bench`: the platform's benchmarks, kept out of the product's library. The `hub`
//! binary's `bench` subcommand is [`Bench`], run by [`run`].
//!
//! * [`flow`]: the thin flow's first half (or a competition) against a platform the bench
//!   starts itself as child processes of the `hub` executable: throughput, latency, memory.
//! * [`ledger`] (`hub bench ledger`): the finance ledger at national scale in PostgreSQL, and
//!   the monitoring report's time on it, with finance running in this process.
//!
//! Rules: the benches reach the services the way their users do (HTTP, events) and finance's
//! data through its public loading and reading functions (`finance::bulk`,
//! `finance::api::monitoring::read_alone`), never through a service's store or rows, so a
//! service's storage stays its own.

// No function over 80 lines (clippy.toml) without a reason written beside it
// (`#[expect(clippy::too_many_lines, reason = "…")]`); a unit test may tell a longer story.
#![warn(clippy::too_many_lines)]
#![cfg_attr(test, allow(clippy::too_many_lines))]

pub mod flow;
pub mod ledger;

use hub_platform::Settings;

pub use flow::{BenchArgs, referral_body};
pub use ledger::LedgerArgs;

/// `hub bench [OPTIONS] [ledger [OPTIONS]]`: the thin flow's options, or the ledger's.
#[derive(Debug, clap::Args)]
pub struct Bench {
    #[command(flatten)]
    pub args: BenchArgs,
    #[command(subcommand)]
    pub scale: Option<Scale>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Scale {
    /// The finance ledger at national scale (150 councils in 30 partnerships, 100,000
    /// placements over five years) in PostgreSQL, and the monitoring report's time on it.
    Ledger(Box<LedgerArgs>),
}

/// Runs the bench the command line chose.
pub async fn run(bench: Bench, settings: Settings) -> anyhow::Result<()> {
    match bench.scale {
        None => flow::run(bench.args, settings).await,
        Some(Scale::Ledger(args)) => ledger::run(*args, settings).await,
    }
}
