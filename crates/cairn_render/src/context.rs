//! The answer to the brief's context request:
//! `{"requesting_agent": …, "request_type": "get_microservices_context", "payload": {"query": …}}`.

use serde_json::{Value, json};

use cairn_model::{EdgeKind, Role};

use crate::Report;

/// The request types this renderer answers.
pub const REQUEST_TYPE: &str = "get_microservices_context";

/// Builds the response to a `get_microservices_context` request.
pub fn response(r: &Report<'_>, query: Option<&str>) -> Value {
    let s = r.system;
    let inventory: Vec<Value> = s
        .services
        .iter()
        .map(|svc| {
            json!({
                "name": svc.name,
                "namespace": svc.namespace,
                "role": svc.role,
                "owner": svc.owner.as_ref().or(svc.owner_label.as_ref()),
                "bounded_context": svc.context,
                "replicas": svc.workloads.iter().map(|w| w.replicas.unwrap_or(1)).sum::<i64>(),
                "images": svc.workloads.iter().flat_map(|w| w.containers.iter().filter(|c| !c.init).filter_map(|c| c.image.clone())).collect::<std::collections::BTreeSet<_>>(),
                "contracts": svc.contracts,
                "slo": {
                    "availability": svc.slo_availability,
                    "latency_ms": svc.slo_latency_ms.iter().map(|(p, ms)| (p.clone(), json!(ms))).collect::<serde_json::Map<_, _>>(),
                },
                "defined_in": svc.evidence.iter().map(|e| format!("{}:{}", e.file, e.line)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let edge = |e: &cairn_model::Edge| json!({"from": e.from, "to": e.to, "protocol": e.protocol, "origin": e.origin, "topics": e.topics, "policy": e.policy, "evidence": e.evidence.first()});
    let sync: Vec<Value> = s
        .edges
        .iter()
        .filter(|e| e.kind == EdgeKind::Sync && !e.observability)
        .map(edge)
        .collect();
    let asynchronous: Vec<Value> = s
        .edges
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EdgeKind::Async | EdgeKind::AsyncPublish | EdgeKind::AsyncConsume
            )
        })
        .map(|e| {
            let mut v = edge(e);
            v["direction"] = json!(e.kind.as_str());
            v
        })
        .collect();
    let telemetry: Vec<Value> = s
        .edges
        .iter()
        .filter(|e| e.observability)
        .map(edge)
        .collect();
    let stores: Vec<Value> = s.datastores.iter().map(|d| json!({"name": d.name, "engine": d.engine, "users": d.users, "shared": d.users.len() > 1})).collect();
    let workloads: Vec<&cairn_model::Workload> =
        s.services.iter().flat_map(|x| x.workloads.iter()).collect();
    let mut kinds: Vec<String> = workloads.iter().map(|w| w.kind.clone()).collect();
    kinds.sort();
    kinds.dedup();
    let mut namespaces: Vec<String> = s
        .services
        .iter()
        .filter_map(|x| x.namespace.clone())
        .collect();
    namespaces.sort();
    namespaces.dedup();
    let platforms: Vec<&str> = [
        (workloads.iter().any(|w| w.kind != "compose"), "kubernetes"),
        (
            workloads.iter().any(|w| w.kind == "compose"),
            "docker-compose",
        ),
        (
            s.objects.iter().any(|o| o.api_version.contains("istio")),
            "istio",
        ),
        (
            s.objects.iter().any(|o| o.api_version.contains("linkerd")),
            "linkerd",
        ),
        (
            s.objects
                .iter()
                .any(|o| o.api_version.contains("gateway.networking.k8s.io")),
            "gateway-api",
        ),
    ]
    .into_iter()
    .filter_map(|(on, n)| on.then_some(n))
    .collect();
    let monitoring: Vec<Value> = s
        .services
        .iter()
        .filter(|x| !x.monitoring.is_empty())
        .map(|x| json!({"service": x.name, "signals": x.monitoring}))
        .collect();
    let observability: Vec<&str> = s
        .services
        .iter()
        .filter(|x| x.role == Role::Observability)
        .map(|x| x.name.as_str())
        .collect();
    let with_probes = workloads
        .iter()
        .filter(|w| {
            w.containers
                .iter()
                .filter(|c| !c.init)
                .all(|c| !c.probes.is_empty())
        })
        .count();
    let with_limits = workloads
        .iter()
        .filter(|w| {
            w.containers
                .iter()
                .filter(|c| !c.init)
                .all(|c| c.resources.memory_limit.is_some())
        })
        .count();
    json!({
        "responding_agent": "cairn",
        "request_type": REQUEST_TYPE,
        "query": query,
        "system": {"name": s.name, "environment": s.environment},
        "service_inventory": inventory,
        "communication_patterns": {
            "synchronous": sync,
            "asynchronous": asynchronous,
            "topics": s.topics,
            "telemetry": telemetry,
            "unresolved_addresses": s.unresolved.iter().map(|u| json!({"from": u.from, "host": u.host, "external": u.external})).collect::<Vec<_>>(),
        },
        "data_stores": stores,
        "deployment_infrastructure": {
            "platforms": platforms,
            "namespaces": namespaces,
            "workload_kinds": kinds,
            "workloads": workloads.len(),
            "autoscaled": workloads.iter().filter(|w| w.autoscaling.is_some()).map(|w| &w.name).collect::<Vec<_>>(),
            "disruption_budgets": workloads.iter().filter(|w| !w.disruption_budgets.is_empty()).map(|w| &w.name).collect::<Vec<_>>(),
            "mesh_enrolled": workloads.iter().filter(|w| w.mesh).map(|w| &w.name).collect::<Vec<_>>(),
            "network_policies": s.network_policies.policies.iter().map(|p| &p.name).collect::<Vec<_>>(),
            "entrypoints": s.entrypoints,
        },
        "monitoring_setup": {
            "observability_services": observability,
            "instrumented_services": monitoring,
        },
        "operational_procedures": {
            "health_probes": {"workloads_with_probes": with_probes, "workloads": workloads.len()},
            "resource_limits": {"workloads_with_memory_limits": with_limits, "workloads": workloads.len()},
            "service_accounts": workloads.iter().filter_map(|w| w.service_account.clone()).collect::<Vec<_>>(),
            "resilience_policies": s.edges.iter().filter(|e| !e.policy.is_empty()).map(|e| json!({"from": e.from, "to": e.to, "policy": e.policy})).collect::<Vec<_>>(),
        },
    })
}
