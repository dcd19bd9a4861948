use super::*;
use serde_json::json;

fn s(
    kind: &str,
    namespace: &str,
    name: &str,
    phase: SyncPhase,
    wave: i64,
    action: SyncAction,
) -> PlanStep {
    PlanStep {
        key: ResourceKey {
            group: if kind == "Widget" {
                "example.com".into()
            } else {
                String::new()
            },
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        },
        api_version: "v1".into(),
        action,
        phase,
        wave,
        hook: None,
        generate_name: false,
        note: None,
    }
}

fn apply(kind: &str, name: &str, wave: i64) -> (PlanStep, Defines) {
    (
        s(
            kind,
            "shop",
            name,
            SyncPhase::Sync,
            wave,
            SyncAction::Create,
        ),
        None,
    )
}

fn names(steps: &[PlanStep]) -> Vec<String> {
    steps
        .iter()
        .map(|s| format!("{}/{}", s.key.kind, s.key.name))
        .collect()
}

#[test]
fn kinds_follow_argo_cd_order_with_unlisted_kinds_last() {
    let mut kinds = vec![
        "Deployment",
        "Service",
        "ConfigMap",
        "Namespace",
        "Widget",
        "Secret",
        "Ingress",
    ];
    kinds.sort_by_key(|k| kind_rank(k));
    assert_eq!(
        kinds,
        [
            "Namespace",
            "Secret",
            "ConfigMap",
            "Service",
            "Deployment",
            "Ingress",
            "Widget"
        ]
    );
}

#[test]
fn waves_come_from_argo_ours_or_a_helm_hook_weight() {
    let cases = [
        (
            json!({"metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "-2"}}}),
            -2,
        ),
        (
            json!({"metadata": {"annotations": {"plumbline.dev/sync-wave": " 5 "}}}),
            5,
        ),
        (
            json!({"metadata": {"annotations": {"helm.sh/hook-weight": "3"}}}),
            3,
        ),
        (
            json!({"metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "1", "helm.sh/hook-weight": "3"}}}),
            1,
        ),
        (
            json!({"metadata": {"annotations": {"argocd.argoproj.io/sync-wave": "soon"}}}),
            0,
        ),
        (json!({"metadata": {}}), 0),
    ];
    for (obj, expected) in cases {
        assert_eq!(wave(Some(&obj)), expected, "{obj}");
    }
    assert_eq!(wave(None), 0);
}

#[test]
fn order_is_phase_then_wave_then_kind_then_name() {
    let steps = vec![
        apply("Deployment", "web", 0),
        apply("ConfigMap", "b", 0),
        apply("ConfigMap", "a", 0),
        apply("Service", "web", -1),
        apply("Widget", "w", 0),
        (
            s(
                "Job",
                "shop",
                "migrate",
                SyncPhase::PreSync,
                5,
                SyncAction::Create,
            ),
            None,
        ),
        (
            s(
                "Job",
                "shop",
                "smoke",
                SyncPhase::PostSync,
                -3,
                SyncAction::Create,
            ),
            None,
        ),
        (
            s(
                "Job",
                "shop",
                "alert",
                SyncPhase::SyncFail,
                0,
                SyncAction::Create,
            ),
            None,
        ),
    ];
    assert_eq!(
        names(&order(steps)),
        [
            "Job/migrate",
            "Service/web",
            "ConfigMap/a",
            "ConfigMap/b",
            "Deployment/web",
            "Widget/w",
            "Job/smoke",
            "Job/alert"
        ]
    );
}

#[test]
fn prunes_come_after_the_applies_of_the_sync_phase_in_reverse() {
    let prune = |kind: &str, name: &str, wave: i64| {
        (
            s(kind, "shop", name, SyncPhase::Sync, wave, SyncAction::Prune),
            None,
        )
    };
    let steps = vec![
        prune("ConfigMap", "old-config", 0),
        prune("Deployment", "old-web", 0),
        prune("Service", "early", -1),
        apply("Deployment", "web", 2),
        (
            s(
                "Job",
                "shop",
                "smoke",
                SyncPhase::PostSync,
                0,
                SyncAction::Create,
            ),
            None,
        ),
    ];
    assert_eq!(
        names(&order(steps)),
        [
            "Deployment/web",
            "Deployment/old-web",
            "ConfigMap/old-config",
            "Service/early",
            "Job/smoke"
        ]
    );
}

#[test]
fn a_namespace_moves_before_the_first_resource_inside_it_and_joins_its_group() {
    let namespace = (
        s(
            "Namespace",
            "",
            "shop",
            SyncPhase::Sync,
            5,
            SyncAction::Create,
        ),
        None,
    );
    let hook = (
        s(
            "Job",
            "shop",
            "migrate",
            SyncPhase::PreSync,
            0,
            SyncAction::Create,
        ),
        None,
    );
    let ordered = order(vec![apply("ConfigMap", "a", 0), namespace, hook]);
    assert_eq!(
        names(&ordered),
        ["Namespace/shop", "Job/migrate", "ConfigMap/a"]
    );
    assert_eq!((ordered[0].phase, ordered[0].wave), (SyncPhase::PreSync, 0));
    assert!(
        ordered[0]
            .note
            .as_deref()
            .unwrap()
            .contains("Job shop/migrate")
    );
}

#[test]
fn a_namespace_already_first_stays_where_it_is() {
    let namespace = (
        s(
            "Namespace",
            "",
            "shop",
            SyncPhase::Sync,
            -1,
            SyncAction::Create,
        ),
        None,
    );
    let ordered = order(vec![apply("ConfigMap", "a", 0), namespace]);
    assert_eq!(names(&ordered), ["Namespace/shop", "ConfigMap/a"]);
    assert_eq!(ordered[0].wave, -1);
    assert_eq!(ordered[0].note, None);
}

#[test]
fn a_crd_moves_before_its_first_custom_resource() {
    let crd = (
        s(
            "CustomResourceDefinition",
            "",
            "widgets.example.com",
            SyncPhase::Sync,
            3,
            SyncAction::Create,
        ),
        Some(("example.com".to_string(), "Widget".to_string())),
    );
    let ordered = order(vec![
        apply("Widget", "w1", 0),
        apply("ConfigMap", "a", 0),
        apply("Widget", "w0", 1),
        crd,
    ]);
    assert_eq!(
        names(&ordered),
        [
            "ConfigMap/a",
            "CustomResourceDefinition/widgets.example.com",
            "Widget/w1",
            "Widget/w0"
        ]
    );
    assert_eq!(ordered[1].wave, 0);
}

#[test]
fn prune_can_be_refused_by_the_object() {
    let obj = json!({"metadata": {"annotations": {"argocd.argoproj.io/sync-options": "ServerSideApply=true, Prune=false"}}});
    assert!(prune_disabled(&obj));
    assert!(!prune_disabled(&json!({"metadata": {}})));
    let kept_by_helm = json!({"metadata": {"annotations": {"helm.sh/resource-policy": "keep"}}});
    assert!(prune_disabled(&kept_by_helm));
}
