//! The OCDS export validates against the OCDS 1.1 release-package schema in
//! `../shared/ocds-1.1/` (draft-04), with the release schema registered under its published URL
//! (no network), and every coded value is in its codelist.

// Until `domain/mod.rs` declares `pub mod ocds;`, compile the module straight from its file.
use competition::domain::ocds;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use ocds::{
    ArrangementKind, Award, Bid, CloseReason, Competition, Council, Criterion, Framework, Lot,
    OcdsInput, Outcome, Provider, Publisher,
};
use serde_json::{Value, json};
use uuid::Uuid;

fn ocds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/ocds-1.1")
}

fn read_ocds_file(name: &str) -> String {
    let path = ocds_dir().join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}): the OCDS 1.1 schemas and codelists are expected in \
             shared/ocds-1.1/ beside the repository (../shared/ocds-1.1 from /work/main)",
            path.display()
        )
    })
}

/// The release-package validator, the release schema registered under its published URL.
fn validator() -> &'static ocds::SchemaValidator {
    static V: OnceLock<ocds::SchemaValidator> = OnceLock::new();
    V.get_or_init(|| ocds::SchemaValidator::load(&ocds_dir()).unwrap_or_else(|e| panic!("{e:#}")))
}

fn schema_errors(package: &Value) -> Vec<String> {
    validator().errors(package)
}

fn assert_valid(package: &Value) {
    let errors = schema_errors(package);
    assert!(
        errors.is_empty(),
        "OCDS package invalid against the 1.1 release-package schema:\n{}\n{}",
        errors.join("\n"),
        serde_json::to_string_pretty(package).unwrap()
    );
}

/// The codes of a codelist CSV (first column; descriptions may hold quoted commas).
fn codelist(name: &str) -> BTreeSet<String> {
    read_ocds_file(&format!("codelists/{name}"))
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            // awardCriteria.csv has a last `Deprecated` column: leave deprecated codes out.
            !(name == "awardCriteria.csv" && csv_fields(l).last().is_some_and(|d| !d.is_empty()))
        })
        .map(|l| csv_fields(l)[0].clone())
        .collect()
}

fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(String::new()),
            c => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

fn assert_in(list: &str, value: &Value, at: &str) {
    let code = value
        .as_str()
        .unwrap_or_else(|| panic!("{at}: {value} is not a string code"));
    let codes = codelist(list);
    assert!(
        codes.contains(code),
        "{at}: {code:?} is not in {list} ({codes:?})"
    );
}

/// Every coded value in the package is a (non-deprecated) code of its codelist.
fn assert_codelists(package: &Value) {
    for (i, r) in package["releases"].as_array().unwrap().iter().enumerate() {
        let at = format!("releases[{i}]");
        for tag in r["tag"].as_array().unwrap() {
            assert_in("releaseTag.csv", tag, &format!("{at}.tag"));
        }
        assert_in(
            "initiationType.csv",
            &r["initiationType"],
            &format!("{at}.initiationType"),
        );
        let t = &r["tender"];
        assert_in(
            "tenderStatus.csv",
            &t["status"],
            &format!("{at}.tender.status"),
        );
        assert_in(
            "method.csv",
            &t["procurementMethod"],
            &format!("{at}.tender.procurementMethod"),
        );
        assert_in(
            "procurementCategory.csv",
            &t["mainProcurementCategory"],
            &format!("{at}.tender.mainProcurementCategory"),
        );
        if !t["awardCriteria"].is_null() {
            assert_in(
                "awardCriteria.csv",
                &t["awardCriteria"],
                &format!("{at}.tender.awardCriteria"),
            );
        }
        for m in t["submissionMethod"].as_array().into_iter().flatten() {
            assert_in(
                "submissionMethod.csv",
                m,
                &format!("{at}.tender.submissionMethod"),
            );
        }
        let items = t["items"].as_array().unwrap().iter().chain(
            r["awards"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|a| a["items"].as_array().unwrap()),
        );
        for item in items {
            assert_in(
                "itemClassificationScheme.csv",
                &item["classification"]["scheme"],
                &format!("{at} item classification"),
            );
            assert_in(
                "unitClassificationScheme.csv",
                &item["unit"]["scheme"],
                &format!("{at} item unit"),
            );
        }
        for p in r["parties"].as_array().unwrap() {
            for role in p["roles"].as_array().unwrap() {
                assert_in("partyRole.csv", role, &format!("{at}.parties {}", p["id"]));
            }
        }
        for rp in r["relatedProcesses"].as_array().unwrap() {
            for rel in rp["relationship"].as_array().unwrap() {
                assert_in("relatedProcess.csv", rel, &format!("{at}.relatedProcesses"));
            }
            assert_in(
                "relatedProcessScheme.csv",
                &rp["scheme"],
                &format!("{at}.relatedProcesses.scheme"),
            );
        }
        for a in r["awards"].as_array().into_iter().flatten() {
            assert_in(
                "awardStatus.csv",
                &a["status"],
                &format!("{at}.awards.status"),
            );
            assert_in(
                "currency.csv",
                &a["value"]["currency"],
                &format!("{at}.awards.value"),
            );
        }
    }
}

/// Every organisation reference names a party of the release with the matching role.
fn assert_references_resolve(package: &Value) {
    for r in package["releases"].as_array().unwrap() {
        let role_of =
            |id: &Value, role: &str| {
                r["parties"].as_array().unwrap().iter().any(|p| {
                    p["id"] == *id && p["roles"].as_array().unwrap().iter().any(|x| x == role)
                })
            };
        assert!(role_of(&r["buyer"]["id"], "buyer"), "buyer is a party");
        assert!(role_of(
            &r["tender"]["procuringEntity"]["id"],
            "procuringEntity"
        ));
        for t in r["tender"]["tenderers"].as_array().into_iter().flatten() {
            assert!(role_of(&t["id"], "tenderer"), "tenderer {t} is a party");
        }
        for a in r["awards"].as_array().into_iter().flatten() {
            for s in a["suppliers"].as_array().unwrap() {
                assert!(role_of(&s["id"], "supplier"), "supplier {s} is a party");
            }
        }
    }
}

// ---- fixtures: the LCR PPA, Sefton calling off the residential lot --------------------------

fn at(h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, h, 15, 0).unwrap()
}

fn provider(id: &str, name: &str) -> Provider {
    Provider {
        id: id.into(),
        name: name.into(),
    }
}

fn input(outcome: Outcome) -> OcdsInput {
    let opened = at(9);
    OcdsInput {
        framework: Framework {
            id: Uuid::parse_str("0199a000-0000-7000-8000-000000000001").unwrap(),
            name: "LCR Provider Partner Agreement".into(),
            kind: ArrangementKind::ProviderPartnerAgreement,
            lead: Council {
                gss: "E06000006".into(),
                name: "Halton Borough Council".into(),
            },
            partnership: "LCR-PPA".into(),
            start_date: NaiveDate::from_ymd_opt(2025, 4, 1).unwrap(),
            end_date: NaiveDate::from_ymd_opt(2029, 3, 31).unwrap(),
            published_ocid: None,
        },
        lot: Lot {
            id: Uuid::parse_str("0199a000-0000-7000-8000-000000000002").unwrap(),
            name: "Residential".into(),
        },
        competition: Competition {
            id: Uuid::parse_str("0199a000-0000-7000-8000-0000000000c1").unwrap(),
            created_at: opened,
            deadline: Some(opened + Duration::hours(72)),
            council: Council {
                gss: "E08000014".into(),
                name: "Sefton Council".into(),
            },
            preselected: true,
            criteria: vec![
                Criterion {
                    code: "location".into(),
                    weight: 0,
                },
                Criterion {
                    code: "price".into(),
                    weight: 40,
                },
                Criterion {
                    code: "quality".into(),
                    weight: 35,
                },
                Criterion {
                    code: "best_match".into(),
                    weight: 25,
                },
            ],
            invited: vec![
                provider("prov-care-assist", "Care Assist Ltd"),
                provider("prov-harbour-homes", "Harbour Homes"),
                provider("prov-meadow-view", "Meadow View Children's Services"),
                provider("prov-north-star", "North Star Care"),
            ],
            bids: vec![
                Bid {
                    provider_id: "prov-harbour-homes".into(),
                    submitted_at: at(11),
                },
                Bid {
                    provider_id: "prov-care-assist".into(),
                    submitted_at: at(10),
                },
                Bid {
                    provider_id: "prov-meadow-view".into(),
                    submitted_at: at(12),
                },
            ],
            outcome,
        },
    }
}

fn awarded() -> OcdsInput {
    input(Outcome::Awarded(Award {
        provider: provider("prov-care-assist", "Care Assist Ltd"),
        weekly_price_pence: 199_999,
        start_date: NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        date: Utc.with_ymd_and_hms(2026, 11, 5, 14, 0, 0).unwrap(),
        direct: false,
    }))
}

fn direct() -> OcdsInput {
    let mut i = input(Outcome::Awarded(Award {
        provider: provider("prov-north-star", "North Star Care"),
        weekly_price_pence: 350_000,
        start_date: NaiveDate::from_ymd_opt(2026, 7, 14).unwrap(),
        date: Utc.with_ymd_and_hms(2026, 7, 13, 22, 40, 0).unwrap(),
        direct: true,
    }));
    let c = &mut i.competition;
    c.created_at = Utc.with_ymd_and_hms(2026, 7, 13, 22, 35, 0).unwrap();
    c.deadline = None;
    c.preselected = false;
    c.criteria.clear();
    c.invited.clear();
    c.bids.clear();
    i
}

fn publisher() -> Publisher {
    Publisher {
        license: Some(
            "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/".into(),
        ),
        ..Publisher::new("Sefton Council")
    }
}

fn package(i: &OcdsInput) -> Value {
    let uri = format!(
        "https://hub.example.org/v1/competitions/{}/ocds",
        i.competition.id
    );
    ocds::release_package(i, &publisher(), i.last_changed(), &uri)
}

fn check(p: &Value) {
    assert_valid(p);
    assert_codelists(p);
    assert_references_resolve(p);
}

fn tags(p: &Value) -> Vec<Vec<String>> {
    p["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| serde_json::from_value(r["tag"].clone()).unwrap())
        .collect()
}

// ---- tests --------------------------------------------------------------------------------

#[test]
fn open_competition_is_a_valid_tender_release() {
    let i = input(Outcome::Open);
    let p = package(&i);
    check(&p);

    assert_eq!(p["version"], "1.1");
    assert_eq!(p["publisher"]["name"], "Sefton Council");
    assert_eq!(p["publishedDate"], "2026-11-02T09:15:00Z");
    assert_eq!(tags(&p), vec![vec!["tender"]]);
    let r = &p["releases"][0];
    let ocid = format!("{}-{}", ocds::PLACEHOLDER_OCID_PREFIX, i.competition.id);
    assert_eq!(r["ocid"], ocid);
    assert_eq!(r["ocid"], ocds::ocid("ocds-hubdev", i.competition.id));
    assert_eq!(r["date"], "2026-11-02T09:15:00Z");
    assert_eq!(
        r["buyer"],
        json!({"id": "E08000014", "name": "Sefton Council"})
    );
    let t = &r["tender"];
    assert_eq!(t["id"], i.competition.id.to_string());
    assert_eq!(t["status"], "active");
    assert_eq!(t["procurementMethod"], "selective");
    assert_eq!(t["mainProcurementCategory"], "services");
    assert_eq!(t["awardCriteria"], "ratedCriteria");
    assert_eq!(t["tenderPeriod"]["endDate"], "2026-11-05T09:15:00Z");
    assert_eq!(t["items"][0]["classification"]["id"], "85311300");
    // Who bid is not published while bidding is open.
    assert!(t.get("tenderers").is_none() && t.get("numberOfTenderers").is_none());
    assert_eq!(r["parties"].as_array().unwrap().len(), 1);
    assert_eq!(
        r["relatedProcesses"],
        json!([{
            "id": "1",
            "relationship": ["framework"],
            "title": "LCR Provider Partner Agreement",
            "scheme": "ocid",
            "identifier": ocds::ocid(ocds::PLACEHOLDER_OCID_PREFIX, i.framework.id),
        }])
    );
}

#[test]
fn awarded_competition_adds_an_award_release() {
    let i = awarded();
    let p = package(&i);
    check(&p);

    assert_eq!(tags(&p), vec![vec!["tender"], vec!["award"]]);
    assert_eq!(p["publishedDate"], "2026-11-05T14:00:00Z");
    let (tender, award) = (&p["releases"][0], &p["releases"][1]);
    assert_eq!(tender["ocid"], award["ocid"]);
    assert_ne!(tender["id"], award["id"]);
    // The tender release is as opened: it does not change when the award is made.
    assert_eq!(*tender, package(&input(Outcome::Open))["releases"][0]);

    let t = &award["tender"];
    assert_eq!(t["status"], "complete");
    assert_eq!(t["numberOfTenderers"], 3);
    let tenderers: Vec<&str> = t["tenderers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        tenderers,
        ["prov-care-assist", "prov-harbour-homes", "prov-meadow-view"]
    );

    let a = &award["awards"][0];
    assert_eq!(a["status"], "active");
    assert_eq!(a["date"], "2026-11-05T14:00:00Z");
    // £1,999.99 a week × 52 = £103,999.48 a year.
    assert_eq!(a["value"], json!({"amount": 103999.48, "currency": "GBP"}));
    assert_eq!(a["items"][0]["quantity"], 52);
    assert_eq!(a["items"][0]["unit"]["value"]["amount"], json!(1999.99));
    assert_eq!(a["contractPeriod"]["startDate"], "2026-12-01T00:00:00Z");
    assert_eq!(
        a["suppliers"],
        json!([{"id": "prov-care-assist", "name": "Care Assist Ltd"}])
    );

    let roles: Vec<(String, Value)> = award["parties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["id"].as_str().unwrap().to_owned(), p["roles"].clone()))
        .collect();
    assert_eq!(
        roles,
        vec![
            ("E08000014".into(), json!(["buyer", "procuringEntity"])),
            ("prov-care-assist".into(), json!(["tenderer", "supplier"])),
            ("prov-harbour-homes".into(), json!(["tenderer"])),
            ("prov-meadow-view".into(), json!(["tenderer"])),
        ]
    );
    // Invited but did not bid: not a party.
    assert!(!award.to_string().contains("prov-north-star"));
}

#[test]
fn direct_award_is_one_release_with_method_direct() {
    let i = direct();
    let p = package(&i);
    check(&p);

    assert_eq!(tags(&p), vec![vec!["tender", "award"]]);
    let r = &p["releases"][0];
    let t = &r["tender"];
    assert_eq!(t["procurementMethod"], "direct");
    assert_eq!(t["status"], "complete");
    assert!(
        t["procurementMethodRationale"]
            .as_str()
            .unwrap()
            .contains("Emergency")
    );
    assert!(
        t["procurementMethodDetails"]
            .as_str()
            .unwrap()
            .contains("Direct award")
    );
    for absent in [
        "awardCriteria",
        "tenderPeriod",
        "tenderers",
        "numberOfTenderers",
    ] {
        assert!(t.get(absent).is_none(), "{absent} in a direct award");
    }
    let a = &r["awards"][0];
    assert_eq!(a["value"]["amount"], json!(182000.0));
    // 14 July is in British Summer Time.
    assert_eq!(
        a["contractPeriod"]["startDate"],
        "2026-07-14T00:00:00+01:00"
    );
    assert_eq!(
        r["parties"][1],
        json!({"id": "prov-north-star", "name": "North Star Care", "roles": ["supplier"]})
    );
    assert_eq!(
        r["relatedProcesses"][0]["relationship"],
        json!(["framework"])
    );
}

#[test]
fn framework_published_elsewhere_is_linked_by_its_own_ocid() {
    let mut i = awarded();
    i.framework.published_ocid = Some("ocds-h6vhtk-04b2c1".into());
    let p = package(&i);
    check(&p);
    for r in p["releases"].as_array().unwrap() {
        assert_eq!(r["relatedProcesses"][0]["identifier"], "ocds-h6vhtk-04b2c1");
    }
}

#[test]
fn closed_competitions_end_unsuccessful_or_cancelled() {
    for (reason, tag, status) in [
        (CloseReason::NoAcceptableBid, "tenderUpdate", "unsuccessful"),
        (CloseReason::Cancelled, "tenderCancellation", "cancelled"),
    ] {
        let closed_at = Utc.with_ymd_and_hms(2026, 11, 6, 8, 0, 0).unwrap();
        let i = input(Outcome::Closed {
            at: closed_at,
            reason,
        });
        let p = package(&i);
        check(&p);
        assert_eq!(tags(&p), vec![vec!["tender"], vec![tag]]);
        assert_eq!(p["publishedDate"], "2026-11-06T08:00:00Z");
        let r = &p["releases"][1];
        assert_eq!(r["tender"]["status"], status);
        assert_eq!(r["tender"]["numberOfTenderers"], 3);
        assert!(r.get("awards").is_none());
    }
}

#[test]
fn price_only_and_quality_only_criteria() {
    let mut i = input(Outcome::Open);
    i.competition.criteria = vec![
        Criterion {
            code: "location".into(),
            weight: 0,
        },
        Criterion {
            code: "price".into(),
            weight: 100,
        },
    ];
    let p = package(&i);
    check(&p);
    assert_eq!(p["releases"][0]["tender"]["awardCriteria"], "priceOnly");
    i.competition.criteria = vec![Criterion {
        code: "quality".into(),
        weight: 100,
    }];
    let p = package(&i);
    check(&p);
    assert_eq!(p["releases"][0]["tender"]["awardCriteria"], "qualityOnly");
}

#[test]
fn validator_rejects_invalid_packages() {
    let good = package(&awarded());
    assert_valid(&good);

    // A tag outside the closed releaseTag codelist (checked inside the referenced release
    // schema, so this also proves the $ref resolved to the registered file).
    let mut bad = good.clone();
    bad["releases"][0]["tag"] = json!(["nonsense"]);
    let errors = schema_errors(&bad);
    assert!(
        errors.iter().any(|e| e.contains("/releases/0/tag/0")),
        "{errors:?}"
    );

    // A release without its ocid.
    let mut bad = good.clone();
    bad["releases"][1].as_object_mut().unwrap().remove("ocid");
    let errors = schema_errors(&bad);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("ocid") && e.contains("/releases/1")),
        "{errors:?}"
    );

    // A tender status outside the closed tenderStatus codelist.
    let mut bad = good.clone();
    bad["releases"][1]["tender"]["status"] = json!("awarded");
    assert!(!schema_errors(&bad).is_empty());

    // A date that is not RFC 3339, and a package without its version.
    let mut bad = good.clone();
    bad["publishedDate"] = json!("5 November 2026");
    assert!(!schema_errors(&bad).is_empty());
    let mut bad = good;
    bad.as_object_mut().unwrap().remove("version");
    assert!(!schema_errors(&bad).is_empty());
}

#[test]
fn codelist_check_catches_codes_outside_open_codelists() {
    // partyRole and relatedProcess are open codelists, so the schema accepts any string; the
    // codelist check is what keeps the export to known codes.
    let mut p = package(&awarded());
    p["releases"][1]["parties"][1]["roles"] = json!(["winner"]);
    assert_valid(&p);
    let caught = std::panic::catch_unwind(|| assert_codelists(&p));
    assert!(
        caught.is_err(),
        "an unknown party role passed the codelist check"
    );

    let mut p = package(&awarded());
    p["releases"][0]["relatedProcesses"][0]["relationship"] = json!(["callOff"]);
    let caught = std::panic::catch_unwind(|| assert_codelists(&p));
    assert!(
        caught.is_err(),
        "an unknown relationship passed the codelist check"
    );
}

#[test]
fn every_kind_of_arrangement_is_named_in_the_method_details() {
    for (kind, words) in [
        (ArrangementKind::FrameworkAgreement, "framework agreement"),
        (
            ArrangementKind::FlexiblePurchasingSystem,
            "flexible purchasing system",
        ),
        (
            ArrangementKind::DynamicPurchasingSystem,
            "dynamic purchasing system",
        ),
        (
            ArrangementKind::ProviderPartnerAgreement,
            "provider partner agreement",
        ),
    ] {
        let mut i = awarded();
        i.framework.kind = kind;
        let p = package(&i);
        check(&p);
        let details = p["releases"][0]["tender"]["procurementMethodDetails"]
            .as_str()
            .unwrap();
        assert!(details.contains(words), "{details}");
    }
}
