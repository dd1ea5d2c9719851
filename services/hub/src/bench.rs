//! `hub bench`: drives the thin flow's first half and reports throughput and latency.

use hub_platform::Settings;

#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// How many referrals to submit.
    #[arg(long, default_value_t = 500)]
    pub referrals: usize,
}

pub async fn run(_args: BenchArgs, _settings: Settings) -> anyhow::Result<()> {
    anyhow::bail!("hub bench is not implemented yet")
}
