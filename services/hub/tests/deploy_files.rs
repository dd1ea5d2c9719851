//! The deployment files (docker-compose.yml, infra/) against the application they deploy.
//!
//! The one entry point when distributed (issue 11 point 6): docker-compose's gateway
//! (infra/gateway/nginx.conf) and the Kubernetes Ingress (infra/k8s/base/ingress.yaml) route
//! by path prefix, and their routes are checked here against the services' own: every path of
//! every service's OpenAPI document (where each registers every route it serves) must reach
//! that service through both, and every route of theirs must lead somewhere a service serves.
//! And the probes and the migration Job fit the application's settings.

use hub_platform::Settings;
use serde_norway::Value;
use utoipa::OpenApi as _;

/// A file of the repository.
fn repo_file(path: &str) -> String {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path);
    std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()))
}

fn yaml(path: &str) -> Value {
    serde_norway::from_str(&repo_file(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Every document of a multi-document YAML file.
fn yaml_documents(path: &str) -> Vec<Value> {
    use serde::Deserialize as _;
    serde_norway::Deserializer::from_str(&repo_file(path))
        .map(|doc| Value::deserialize(doc).unwrap_or_else(|e| panic!("{path}: {e}")))
        .collect()
}

/// The first document of `kind` in a manifest file.
fn manifest(path: &str, kind: &str) -> Value {
    yaml_documents(path)
        .into_iter()
        .find(|d| d["kind"].as_str() == Some(kind))
        .unwrap_or_else(|| panic!("{path} has no {kind}"))
}

/// Every service with the paths it serves, from its OpenAPI document.
fn service_paths() -> Vec<(&'static str, Vec<String>)> {
    let docs = [
        ("referral", referral::api::ReferralApi::openapi()),
        ("competition", competition::api::CompetitionApi::openapi()),
        ("contract", contract::api::ContractApi::openapi()),
        ("finance", finance::api::FinanceApi::openapi()),
        (
            "notifications",
            notifications::api::NotificationsApi::openapi(),
        ),
    ];
    assert_eq!(docs.len(), hub::SERVICES.len(), "a service is missing here");
    docs.into_iter()
        .map(|(service, doc)| {
            let paths: Vec<String> = doc.paths.paths.keys().cloned().collect();
            assert!(!paths.is_empty(), "{service} documents no path");
            (service, paths)
        })
        .collect()
}

/// A concrete request path for an OpenAPI path template (`{id}` becomes a value).
fn concrete(template: &str) -> String {
    template
        .split('/')
        .map(|seg| if seg.starts_with('{') { "0190" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// A gateway's routes: (path prefix, service) in the order written.
type Routes = Vec<(String, String)>;

/// The gateway's `location <prefix> { proxy_pass http://$<service>; }` lines.
fn nginx_routes() -> Routes {
    repo_file("infra/gateway/nginx.conf")
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("location /") && l.contains("proxy_pass http://$"))
        .map(|l| {
            let prefix = l.split_whitespace().nth(1).expect("a prefix").to_owned();
            let upstream = l.split("http://$").nth(1).expect("an upstream");
            let service = upstream.trim_end_matches(['}', ' ', ';']).to_owned();
            (prefix, service)
        })
        .collect()
}

/// nginx's choice among prefix locations: the longest prefix of the path.
fn nginx_route<'a>(routes: &'a Routes, path: &str) -> Option<&'a str> {
    routes
        .iter()
        .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, service)| service.as_str())
}

/// The Ingress's rules (every one `pathType: Prefix` to a `hub-<service>` Service, port
/// `http`).
fn ingress_routes() -> Routes {
    let ingress = yaml("infra/k8s/base/ingress.yaml");
    let rules = ingress["spec"]["rules"].as_sequence().expect("rules");
    let mut routes = Vec::new();
    for rule in rules {
        for p in rule["http"]["paths"].as_sequence().expect("paths") {
            assert_eq!(p["pathType"].as_str(), Some("Prefix"), "{p:?}");
            let backend = &p["backend"]["service"];
            assert_eq!(backend["port"]["name"].as_str(), Some("http"), "{p:?}");
            let service = backend["name"].as_str().expect("a Service");
            let service = service.strip_prefix("hub-").expect("a hub- Service");
            let path = p["path"].as_str().expect("a path");
            routes.push((path.to_owned(), service.to_owned()));
        }
    }
    routes
}

/// Kubernetes' `Prefix` match: whole path elements, the longest prefix winning.
fn ingress_route<'a>(routes: &'a Routes, path: &str) -> Option<&'a str> {
    routes
        .iter()
        .filter(|(prefix, _)| {
            path == prefix || path.starts_with(&format!("{}/", prefix.trim_end_matches('/')))
        })
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, service)| service.as_str())
}

#[test]
fn every_path_of_every_service_reaches_it_through_the_gateway_and_the_ingress() {
    let (nginx, ingress) = (nginx_routes(), ingress_routes());
    let mut checked = 0;
    for (service, paths) in service_paths() {
        for template in paths {
            let path = concrete(&template);
            assert_eq!(
                nginx_route(&nginx, &path),
                Some(service),
                "gateway: {template}"
            );
            assert_eq!(
                ingress_route(&ingress, &path),
                Some(service),
                "Ingress: {template}"
            );
            checked += 1;
        }
    }
    assert!(checked > 50, "only {checked} paths");
}

/// No route is stale or unowned, and the two gateways route the same prefixes alike.
#[test]
fn every_route_leads_to_a_service_that_serves_under_it_and_both_gateways_agree() {
    let services = service_paths();
    let (nginx, ingress) = (nginx_routes(), ingress_routes());
    for (prefix, service) in nginx.iter().chain(&ingress) {
        let paths = &services
            .iter()
            .find(|(s, _)| s == service)
            .unwrap_or_else(|| panic!("{prefix} goes to {service}, no service of ours"))
            .1;
        assert!(
            paths
                .iter()
                .any(|p| p == prefix || p.starts_with(&format!("{prefix}/"))),
            "{prefix} goes to {service}, which serves nothing under it"
        );
    }
    let mut a = nginx.clone();
    let mut b = ingress.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "gateway and Ingress route differently");
}

/// docker-compose: one published port (8080, the gateway, as the embedded mode), the
/// services' own ports unpublished, links sent to providers beginning with the gateway's
/// address, and the gateway's upstreams the compose services on their configured ports.
#[test]
fn compose_offers_one_port_through_the_gateway() {
    let compose = yaml("docker-compose.yml");
    let services = &compose["services"];
    let ports = Settings::load_with(&[]).unwrap().ports;
    let conf = repo_file("infra/gateway/nginx.conf");
    for service in hub::SERVICES {
        assert!(
            services[*service].get("ports").is_none(),
            "{service} publishes a port of its own"
        );
        let port = ports.of(service).unwrap();
        let upstream = format!("set ${service} {service}:{port};");
        let collapsed = conf.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(collapsed.contains(&upstream), "gateway lacks `{upstream}`");
    }
    let gateway = &services["gateway"];
    assert_eq!(
        gateway["ports"].as_sequence().map(Vec::as_slice),
        Some(&[Value::from("8080:8080")][..])
    );
    let volumes = format!("{:?}", gateway["volumes"]);
    assert!(volumes.contains("./infra/gateway/nginx.conf"), "{volumes}");
    let public_url = compose["x-hub-env"]["HUB__SERVER__PUBLIC_URL"]
        .as_str()
        .expect("public_url set");
    assert!(
        public_url.ends_with(":-http://localhost:8080}"),
        "{public_url}"
    );
}

/// Kubernetes: the readiness probe waits longer than the application's own checks take
/// (they run concurrently, each within `server.ready_check_timeout_ms`), and so does the
/// compose health check; the services leave migrations to the hub-migrate Job
/// (`hub migrate --all`) and wait for it within their startup probe's time; replicas are the
/// HorizontalPodAutoscalers' to set.
#[test]
fn probes_and_migrations_fit_the_application() {
    let settings = Settings::load_with(&[]).unwrap();
    let ready_ms = settings.server.ready_check_timeout_ms;
    let config = repo_file("infra/k8s/base/hub-config.env");
    let setting = |key: &str| {
        config
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("hub-config.env lacks {key}"))
            .to_owned()
    };
    assert_eq!(setting("HUB__DATABASE__MIGRATE_AT_START"), "false");
    let wait_secs: u64 = setting("HUB__DATABASE__SCHEMA_WAIT_SECS").parse().unwrap();
    let hpas = yaml_documents("infra/k8s/base/hpa.yaml");
    for service in hub::SERVICES {
        let deployment = manifest(&format!("infra/k8s/base/{service}.yaml"), "Deployment");
        assert!(deployment["spec"].get("replicas").is_none(), "{service}");
        let container = &deployment["spec"]["template"]["spec"]["containers"][0];
        let secs = |probe: &str, field: &str| container[probe][field].as_u64().unwrap_or(0);
        assert!(
            secs("readinessProbe", "timeoutSeconds") * 1000 > ready_ms,
            "{service}: readiness probe timeout"
        );
        let startup =
            secs("startupProbe", "periodSeconds") * secs("startupProbe", "failureThreshold");
        assert!(
            startup > wait_secs + 10,
            "{service}: startup probe {startup} s"
        );
        assert!(
            hpas.iter()
                .any(|h| h["spec"]["scaleTargetRef"]["name"].as_str()
                    == Some(&format!("hub-{service}"))),
            "{service} has no HorizontalPodAutoscaler"
        );
    }
    let job = manifest("infra/k8s/base/migrate-job.yaml", "Job");
    let args = &job["spec"]["template"]["spec"]["containers"][0]["args"];
    assert_eq!(args, &Value::from(vec!["migrate", "--all"]));
    let compose = yaml("docker-compose.yml");
    let timeout = compose["x-hub-healthcheck"]["timeout"].as_str().unwrap();
    let timeout_secs: u64 = timeout.trim_end_matches('s').parse().unwrap();
    assert!(
        timeout_secs * 1000 > ready_ms,
        "compose health check {timeout}"
    );
}
