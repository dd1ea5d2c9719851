//! Writing the load's rows with `COPY … FROM STDIN` in PostgreSQL's text format. Each writer
//! destructures the store's row type whole, so a column added to a table fails to compile
//! here rather than at the `COPY`.

use std::io::Write as _;

use anyhow::Context as _;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::{ExecuteCopyFromDsl, PgConnection};

use hub_platform::Pence;

use super::{Counts, Ledger, Source, Upload, id};
use crate::{
    domain::{
        actuals::UploadFormat,
        ledger::{Attribution, BedChange, BedStatus, SourceKind},
    },
    ids::{
        BlockContractId, ContractId, LineId, OrderId, PaymentId, PlacementId, ReferralId,
        ServiceContractId, SourceId, UploadId,
    },
    schema,
    store::{
        CommitmentRow,
        actuals::{PaymentRow, UploadRow},
        facts::{
            BedEventRow, BlockContractRow, ExtensionRow, PlacementEndRow, PlacementRow,
            RateChangeRow, ServiceContractRow, TerminationRow,
        },
    },
};

/// Sources costed per `COPY` of commitment lines.
const SOURCES_PER_COPY: usize = 2_000;

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
// The codes are snake_case words and the ids hyphenated UUIDs: nothing in them needs escaping.
display_field!(
    i32,
    i64,
    NaiveDate,
    Attribution,
    SourceKind,
    BedStatus,
    UploadFormat,
    LineId,
    SourceId,
    ContractId,
    PlacementId,
    OrderId,
    ReferralId,
    BlockContractId,
    ServiceContractId,
    UploadId,
    PaymentId
);

/// Pence as the column holds them (the number, not `£` and grouping as `Display` writes them).
impl Field for Pence {
    fn put(&self, buf: &mut Vec<u8>) {
        self.0.put(buf);
    }
}

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

/// The facts: placements with their rate changes and ends, block contracts with their bed
/// events, service contracts with their extensions and terminations.
pub(super) fn facts(
    conn: &mut PgConnection,
    ledger: &Ledger,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let now = chrono::Utc::now().naive_utc();
    placements(conn, ledger, now, counts)?;
    blocks(conn, ledger, now, counts)?;
    services(conn, ledger, now, counts)
}

fn placements(
    conn: &mut PgConnection,
    ledger: &Ledger,
    now: NaiveDateTime,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let (mut placements, mut changes, mut ends) = (Vec::new(), Vec::new(), Vec::new());
    for p in &ledger.placements {
        let placement_id: PlacementId = id(&p.id, "placement")?;
        put_placement(
            &mut placements,
            &PlacementRow {
                placement_id,
                partnership: p.partnership.clone(),
                council: p.council.clone(),
                provider_id: p.provider.clone(),
                order_id: Some(id(&p.order_id, "order")?),
                referral_id: Some(id(&p.referral_id, "referral")?),
                block_contract_id: None,
                bed: None,
                start_date: p.start.from,
                weekly_rate_pence: p.start.weekly,
                extras_weekly_pence: p.start.extras,
                created_at: now,
            },
        );
        for c in &p.changes {
            put_rate_change(
                &mut changes,
                &RateChangeRow {
                    placement_id,
                    ipa_version: c.version as i32,
                    partnership: p.partnership.clone(),
                    council: p.council.clone(),
                    effective_from: c.from,
                    weekly_rate_pence: c.weekly,
                    extras_weekly_pence: c.extras,
                    created_at: now,
                },
            );
        }
        if let Some(end) = p.end {
            put_end(
                &mut ends,
                &PlacementEndRow {
                    placement_id,
                    partnership: p.partnership.clone(),
                    council: p.council.clone(),
                    end_date: end,
                    reason: "planned".to_owned(),
                    created_at: now,
                },
            );
        }
    }
    counts.placements = copy_in!(conn, schema::placements::table, &placements)?;
    counts.rate_changes = copy_in!(conn, schema::placement_rate_changes::table, &changes)?;
    counts.placement_ends = copy_in!(conn, schema::placement_ends::table, &ends)?;
    Ok(())
}

fn blocks(
    conn: &mut PgConnection,
    ledger: &Ledger,
    now: NaiveDateTime,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let (mut blocks, mut beds) = (Vec::new(), Vec::new());
    for b in &ledger.blocks {
        let diff = b.spot_weekly - b.terms.weekly;
        let block_contract_id: BlockContractId = id(&b.id, "block contract")?;
        put_block(
            &mut blocks,
            &BlockContractRow {
                block_contract_id,
                partnership: b.terms.partnership.clone(),
                lead_council: b.lead_council.clone(),
                provider_id: b.provider.clone(),
                beds: i32::from(b.terms.beds),
                block_weekly_rate_pence: b.terms.weekly,
                spot_weekly_rate_pence: b.spot_weekly,
                start_date: b.terms.start,
                end_date: b.terms.end,
                planned_annual_saving_pence: diff * 52 * i64::from(b.terms.beds),
                created_at: now,
            },
        );
        for e in &b.events {
            let (state, council) = match &e.change {
                BedChange::Filled { council } => (BedStatus::Filled, Some(council)),
                BedChange::Void { holder } => (BedStatus::Void, holder.as_ref()),
            };
            put_bed_event(
                &mut beds,
                &BedEventRow {
                    block_contract_id,
                    bed: i32::from(e.bed),
                    effective_from: e.from,
                    state: state.to_owned(),
                    partnership: b.terms.partnership.clone(),
                    council: council.cloned(),
                    placement_id: None,
                    created_at: now,
                },
            );
        }
    }
    counts.block_contracts = copy_in!(conn, schema::block_contracts::table, &blocks)?;
    counts.bed_events = copy_in!(conn, schema::bed_events::table, &beds)?;
    Ok(())
}

fn services(
    conn: &mut PgConnection,
    ledger: &Ledger,
    now: NaiveDateTime,
    counts: &mut Counts,
) -> anyhow::Result<()> {
    let (mut services, mut extensions, mut terminations) = (Vec::new(), Vec::new(), Vec::new());
    for s in &ledger.services {
        let contract_id: ServiceContractId = id(&s.id, "service contract")?;
        put_service(
            &mut services,
            &ServiceContractRow {
                contract_id,
                partnership: s.partnership.clone(),
                lead_council: s.lead_council.clone(),
                provider_id: s.provider.clone(),
                budget_line: s.budget_line.clone(),
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
                    contract_id,
                    extensions_used: 1,
                    partnership: s.partnership.clone(),
                    previous_end_date: s.end,
                    new_end_date: new_end,
                    added_value_pence: added,
                    created_at: now,
                },
            );
        }
        if let Some(on) = s.terminated_on {
            put_termination(
                &mut terminations,
                &TerminationRow {
                    contract_id,
                    partnership: s.partnership.clone(),
                    terminated_on: on,
                    reason: "no longer needed".to_owned(),
                    created_at: now,
                },
            );
        }
    }
    let extension_table = schema::service_contract_extensions::table;
    let termination_table = schema::service_contract_terminations::table;
    counts.service_contracts = copy_in!(conn, schema::service_contracts::table, &services)?;
    counts.extensions = copy_in!(conn, extension_table, &extensions)?;
    counts.terminations = copy_in!(conn, termination_table, &terminations)?;
    Ok(())
}

/// Costs every source and loads its lines, a chunk of sources per `COPY`: one thread costs
/// and writes the next chunk while PostgreSQL takes the last. Returns the lines loaded.
pub(super) fn lines(
    conn: &mut PgConnection,
    ledger: &Ledger,
    through_year: i32,
    progress: &mut dyn FnMut(u64),
) -> anyhow::Result<usize> {
    let sources: Vec<Source<'_>> = ledger.sources().collect();
    let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<(usize, Vec<u8>)>>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for chunk in sources.chunks(SOURCES_PER_COPY) {
                let buf = chunk_lines(chunk, through_year).map(|buf| (chunk.len(), buf));
                let stop = buf.is_err();
                if tx.send(buf).is_err() || stop {
                    return;
                }
            }
        });
        let mut lines = 0;
        for chunk in rx {
            let (n, buf) = chunk?;
            lines += copy_in!(conn, schema::commitment_lines::table, &buf)
                .context("copying commitment lines")?;
            progress(n as u64);
        }
        Ok(lines)
    })
}

/// A chunk of sources' lines, costed, in `COPY` text.
fn chunk_lines(chunk: &[Source<'_>], through_year: i32) -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(chunk.len() * 16 * 220);
    for s in chunk {
        for line in s.posted(s.lines(through_year))? {
            put_line(&mut buf, &CommitmentRow::from(line));
        }
    }
    Ok(buf)
}

/// The uploads and their payments, numbered from line 2 (after the CSV's header) as an
/// upload's are. Returns the uploads and payments loaded.
pub(super) fn payments(
    conn: &mut PgConnection,
    uploads: &[Upload],
) -> anyhow::Result<(usize, usize)> {
    let now = chrono::Utc::now().naive_utc();
    let (mut upload_rows, mut payment_rows) = (Vec::new(), Vec::new());
    for u in uploads {
        let upload_id = UploadId::new();
        for (i, p) in u.payments.iter().enumerate() {
            put_payment(
                &mut payment_rows,
                &PaymentRow {
                    id: PaymentId::new(),
                    upload_id,
                    partnership: u.partnership.clone(),
                    council: p.council.clone(),
                    year: u.year,
                    period: u.period,
                    adjusts_period: None,
                    budget_line: p.budget_line.clone(),
                    amount_pence: p.amount,
                    payment_reference: p.reference.clone(),
                    paid_on: p.paid_on,
                    provider_id: None,
                    contract_id: None,
                    line_no: i as i32 + 2,
                    created_at: now,
                },
            );
        }
        put_upload(&mut upload_rows, &upload_row(u, upload_id, now));
    }
    let uploads = copy_in!(conn, schema::uploads::table, &upload_rows)?;
    let payments = copy_in!(conn, schema::payments::table, &payment_rows)?;
    Ok((uploads, payments))
}

/// An upload as recorded once, every row applied; the content hash is made unique.
fn upload_row(u: &Upload, id: UploadId, now: NaiveDateTime) -> UploadRow {
    let n = u.payments.len() as i32;
    UploadRow {
        id,
        partnership: u.partnership.clone(),
        year: u.year,
        requested_period: u.period,
        posted_period: u.period,
        format: UploadFormat::Csv,
        content_sha256: format!("{}{}", id.0.simple(), uuid::Uuid::now_v7().simple()),
        rows_read: n,
        applied: n,
        already_recorded: 0,
        applied_pence: u.payments.iter().map(|p| p.amount).sum(),
        uploaded_by: u.uploaded_by.clone(),
        uploaded_org: u.uploaded_org.clone(),
        uploaded_at: now,
    }
}
