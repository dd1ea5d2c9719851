//! The messages of contract events: orders, placements, IPAs, block beds and service
//! contracts. Each body carries the contract event's ids, codes and dates (never anything
//! about the child) and, where there is one, a link to the thing itself. Who hears of each
//! follows from the event alone, so each event says it through [`Webhooks`].

use chrono::{DateTime, NaiveDate, Utc};
use hub_events::{
    BedOffered, BedVoid, IpaReviewDue, OrderIssued, OrderOverdue, PlacementEnded,
    ServiceContractExpiring,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    Webhook, Webhooks,
    event_types::*,
    messages::{council_name, join_url, webhooks_to},
};

/// `order.issued`: the provider is sent an order to sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderIssuedHook {
    pub order_id: Uuid,
    pub competition_id: Uuid,
    pub referral_id: Uuid,
    /// GSS code of the council placing the order.
    pub council: String,
    pub framework_id: Uuid,
    pub weekly_rate_pence: i64,
    pub start_date: NaiveDate,
    /// The day it is due back signed.
    pub due_by: NaiveDate,
    /// An emergency order (a direct award): `due_by` is the timescale the parties agreed.
    pub emergency: bool,
    /// Where to read, sign or decline it.
    pub order_url: String,
}

/// `order.overdue`: an issued order was not signed by the day it was due (to the provider
/// and to the council).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderOverdueHook {
    pub order_id: Uuid,
    pub provider_id: String,
    pub council: String,
    pub due_by: NaiveDate,
    pub order_url: String,
}

/// `ipa.review_due`: a placement's Individual Placement Agreement is due for review, or
/// overdue (to the provider and to the council).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct IpaReviewDueHook {
    pub placement_id: Uuid,
    pub ipa_id: Uuid,
    pub council: String,
    pub provider_id: String,
    pub review_due_on: NaiveDate,
    /// The review date has passed.
    pub overdue: bool,
}

/// `bed.void`: a bed of a block contract the council holds became empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BedVoidHook {
    pub block_contract_id: Uuid,
    /// The bed's number in the block.
    pub bed: u16,
    /// The council the bed is held for (the receiver).
    pub council: String,
    pub provider_id: String,
    pub void_from: NaiveDate,
}

/// `bed.offered`: a partner council offers a block bed left void (to each council it is
/// offered to).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BedOfferedHook {
    pub block_contract_id: Uuid,
    pub bed: u16,
    /// GSS code of the council offering the bed, and its name.
    pub offered_by: String,
    pub offered_by_name: String,
    pub provider_id: String,
    pub lot_id: Option<Uuid>,
    pub home_id: Option<Uuid>,
    pub postcode_district: String,
    pub available_from: NaiveDate,
    /// Until when the offer stands.
    pub offer_expires_on: NaiveDate,
}

/// `service_contract.expiring`: a service contract the council leads reaches an expiry
/// alert (so a new procurement starts in time).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceContractExpiringHook {
    pub contract_id: Uuid,
    pub lead_council: String,
    pub provider_id: String,
    pub end_date: NaiveDate,
    /// The alert's lead time: months before `end_date`.
    pub months_before: u16,
    pub extensions_left: u16,
}

/// `placement.ended`: a placement with the provider ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlacementEndedHook {
    pub placement_id: Uuid,
    pub council: String,
    pub provider_id: String,
    /// The last night of the placement.
    pub end_date: NaiveDate,
    /// `planned_move`, `step_down`, `breakdown`, `return_home`, `adoption`, `turned_18`, `other`.
    pub reason: String,
    pub block_contract_id: Option<Uuid>,
    pub bed: Option<u16>,
}

fn order_url(base_url: &str, id: Uuid) -> String {
    join_url(base_url, &format!("/v1/orders/{id}"))
}

impl Webhooks for OrderIssued {
    fn webhooks(&self, at: DateTime<Utc>, base_url: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.provider_id],
            ORDER_ISSUED,
            at,
            OrderIssuedHook {
                order_id: e.order_id,
                competition_id: e.competition_id,
                referral_id: e.referral_id,
                council: e.council.clone(),
                framework_id: e.framework_id,
                weekly_rate_pence: e.weekly_rate_pence,
                start_date: e.start_date,
                due_by: e.due_by,
                emergency: e.emergency,
                order_url: order_url(base_url, e.order_id),
            },
        )
    }
}

impl Webhooks for OrderOverdue {
    fn webhooks(&self, at: DateTime<Utc>, base_url: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.provider_id, &e.council],
            ORDER_OVERDUE,
            at,
            OrderOverdueHook {
                order_id: e.order_id,
                provider_id: e.provider_id.clone(),
                council: e.council.clone(),
                due_by: e.due_by,
                order_url: order_url(base_url, e.order_id),
            },
        )
    }
}

impl Webhooks for IpaReviewDue {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.provider_id, &e.council],
            IPA_REVIEW_DUE,
            at,
            IpaReviewDueHook {
                placement_id: e.placement_id,
                ipa_id: e.ipa_id,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                review_due_on: e.review_due_on,
                overdue: e.overdue,
            },
        )
    }
}

impl Webhooks for BedVoid {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.council],
            BED_VOID,
            at,
            BedVoidHook {
                block_contract_id: e.block_contract_id,
                bed: e.bed,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                void_from: e.void_from,
            },
        )
    }
}

/// To each council the bed is offered to, never the offerer.
impl Webhooks for BedOffered {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let e = self;
        let councils: Vec<&str> = e
            .offered_to
            .iter()
            .map(String::as_str)
            .filter(|c| *c != e.offered_by)
            .collect();
        webhooks_to(
            &councils,
            BED_OFFERED,
            at,
            BedOfferedHook {
                block_contract_id: e.block_contract_id,
                bed: e.bed,
                offered_by: e.offered_by.clone(),
                offered_by_name: council_name(&e.offered_by),
                provider_id: e.provider_id.clone(),
                lot_id: e.lot_id,
                home_id: e.home_id,
                postcode_district: e.postcode_district.clone(),
                available_from: e.available_from,
                offer_expires_on: e.offer_expires_on,
            },
        )
    }
}

impl Webhooks for ServiceContractExpiring {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.lead_council],
            SERVICE_CONTRACT_EXPIRING,
            at,
            ServiceContractExpiringHook {
                contract_id: e.contract_id,
                lead_council: e.lead_council.clone(),
                provider_id: e.provider_id.clone(),
                end_date: e.end_date,
                months_before: e.months_before,
                extensions_left: e.extensions_left,
            },
        )
    }
}

impl Webhooks for PlacementEnded {
    fn webhooks(&self, at: DateTime<Utc>, _: &str) -> Vec<Webhook> {
        let e = self;
        webhooks_to(
            &[&e.provider_id],
            PLACEMENT_ENDED,
            at,
            PlacementEndedHook {
                placement_id: e.placement_id,
                council: e.council.clone(),
                provider_id: e.provider_id.clone(),
                end_date: e.end_date,
                reason: e.reason.clone(),
                block_contract_id: e.block_contract_id,
                bed: e.bed,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Who hears of each contract event, under which webhook type.
    #[test]
    fn contract_events_go_to_the_provider_and_the_councils_concerned() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        fn recipients(event: impl Webhooks) -> Vec<(String, &'static str)> {
            event
                .webhooks(Utc::now(), "https://hub.example")
                .into_iter()
                .map(|(org, kind, body)| {
                    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(v["type"], kind);
                    (org, kind)
                })
                .collect()
        }
        let overdue = OrderOverdue {
            order_id: Uuid::nil(),
            provider_id: "prov-a".into(),
            council: "E08000014".into(),
            due_by: day,
        };
        assert_eq!(
            recipients(overdue),
            [
                ("prov-a".to_owned(), ORDER_OVERDUE),
                ("E08000014".to_owned(), ORDER_OVERDUE)
            ]
        );
        let offered = BedOffered {
            block_contract_id: Uuid::nil(),
            bed: 1,
            offered_by: "E08000014".into(),
            offered_to: vec!["E08000012".into(), "E08000014".into(), "E08000015".into()],
            provider_id: "prov-a".into(),
            lot_id: None,
            home_id: None,
            postcode_district: "L20".into(),
            available_from: day,
            offer_expires_on: day,
        };
        assert_eq!(
            recipients(offered),
            [
                ("E08000012".to_owned(), BED_OFFERED),
                ("E08000015".to_owned(), BED_OFFERED)
            ],
            "not the offering council"
        );
        let expiring = ServiceContractExpiring {
            contract_id: Uuid::nil(),
            lead_council: "E06000006".into(),
            provider_id: "prov-a".into(),
            end_date: day,
            months_before: 3,
            extensions_left: 0,
        };
        assert_eq!(
            recipients(expiring),
            [("E06000006".to_owned(), SERVICE_CONTRACT_EXPIRING)]
        );
        // The other types are each the audience's own.
        for t in [ORDER_ISSUED, PLACEMENT_ENDED] {
            assert!(PROVIDER_EVENT_TYPES.contains(&t) && !COUNCIL_EVENT_TYPES.contains(&t));
        }
        for t in [BED_VOID, BED_OFFERED, SERVICE_CONTRACT_EXPIRING] {
            assert!(COUNCIL_EVENT_TYPES.contains(&t) && !PROVIDER_EVENT_TYPES.contains(&t));
        }
        for t in [ORDER_OVERDUE, IPA_REVIEW_DUE] {
            assert!(COUNCIL_EVENT_TYPES.contains(&t) && PROVIDER_EVENT_TYPES.contains(&t));
        }
    }
}
