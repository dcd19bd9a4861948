//! The steps of the differential suite, and how answers are normalised before they are compared.

use regex::Regex;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

pub enum Step {
    Kubectl {
        minor: String,
        binary: PathBuf,
        args: Vec<String>,
        stdin: Option<String>,
    },
    Request {
        method: &'static str,
        path: String,
        body: Option<String>,
    },
}

impl Step {
    pub fn label(&self) -> String {
        match self {
            Step::Kubectl {
                minor, args, stdin, ..
            } => format!(
                "kubectl {minor}: {}{}",
                args.join(" "),
                if stdin.is_some() { " < manifest" } else { "" }
            ),
            Step::Request {
                method, path, body, ..
            } => format!(
                "kube-rs: {method} {path}{}",
                body.as_deref()
                    .map(|b| format!(" {}", b.chars().take(120).collect::<String>()))
                    .unwrap_or_default()
            ),
        }
    }
}

/// What differs between two servers by nature, replaced by a placeholder.
pub fn normalise(text: &str) -> String {
    static RULES: LazyLock<Vec<(Regex, &str)>> = LazyLock::new(|| {
        [
            // klog's header on kubectl's warnings: W1207 22:07:19.381786   12224 prune.go:71]
            (
                r"[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+ [\w.]+:\d+\]",
                "<klog>",
            ),
            // The presence markers of managedFields' Update entries, which the sandbox does
            // not write (its README says so).
            (r#""\.":\{\},?"#, ""),
            (r"(?m)^\s*\.: \{\}\n", ""),
            // What a rollout looked like while kubectl waited depends on when it looked.
            (
                r"(?m)^Waiting for deployment .* rollout to finish: .*\n",
                "",
            ),
            // kubectl diff's temporary folders and their files' times.
            (r"/tmp/(LIVE|MERGED)-\d+", "/tmp/$1"),
            (
                r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d+ [+-]\d{4}",
                "<time>",
            ),
            (r"https://127\.0\.0\.1:\d+", "<server>"),
            (r"127\.0\.0\.1:\d+", "<server>"),
            (
                r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
                "<uid>",
            ),
            (
                r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})",
                "<time>",
            ),
            (r#"("?resourceVersion"?:\s*)"?\d+"?"#, "${1}<rv>"),
            (r#"("?generation"?:\s*)\d+"#, "${1}<n>"),
            (r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b", "<ip>"),
            // A Pod of a ReplicaSet of a Deployment, a ReplicaSet, a Pod of a Job.
            (
                r"\b([a-z][a-z0-9-]*?)-[bcdfghjklmnpqrstvwxz2456789]{6,10}-[a-z0-9]{5}\b",
                "${1}-<rs>-<pod>",
            ),
            (
                r"(pod-template-hash[=:]\s*)[bcdfghjklmnpqrstvwxz2456789]{6,10}",
                "${1}<hash>",
            ),
            (
                r"\b(web|api)-[bcdfghjklmnpqrstvwxz2456789]{6,10}\b",
                "${1}-<rs>",
            ),
            (r"\b(once|nightly)-[a-z0-9]{5}\b", "${1}-<pod>"),
            (r"controller-uid[=:]\s*<uid>", "controller-uid=<uid>"),
            // What the simulated Nodes call their kubelet.
            (r"\b(kwok-\d+\.\d+\.\d+|kube-sandbox)\b", "<node-version>"),
            // Which of the simulated Nodes a Pod lands on.
            (r"\bnode-[0-9]\b", "node-<n>"),
            // Ages and durations in tables: 5s, 3m12s, 2d.
            (r"\b\d+(\.\d+)?(ms|s|m|h|d)(\d+(s|m|h))?\b", "<age>"),
            // Table columns are as wide as what they hold.
            (r"[ \t]+", " "),
        ]
        .into_iter()
        .map(|(pattern, with)| (Regex::new(pattern).unwrap(), with))
        .collect()
    });
    let mut text = text.trim().to_string();
    for (pattern, with) in RULES.iter() {
        text = pattern.replace_all(&text, *with).into_owned();
    }
    text
}

const APP: &str = "apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: web}}
data: {greeting: hello}
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
";

const CHANGED_SETTINGS: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: settings, labels: {app: web}}
data: {greeting: hello again}
";

const REPLICAS_AS_TEXT: &str = "apiVersion: apps/v1
kind: Deployment
metadata: {name: typed}
spec:
  replicas: two
  selector: {matchLabels: {app: typed}}
  template:
    metadata: {labels: {app: typed}}
    spec: {containers: [{name: a, image: nginx}]}
";

const DATA_AS_NUMBER: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: numbers}
data: {count: 1}
";

const PRUNABLE: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: kept, labels: {set: prune}}
data: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dropped, labels: {set: prune}}
data: {a: b}
";

const PRUNED: &str = "apiVersion: v1
kind: ConfigMap
metadata: {name: kept, labels: {set: prune}}
data: {a: b}
";

/// A CRD with a structural schema (a default, an enum, a required field) and printer columns.
const GADGET_CRD: &str = "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.fidelity.example.com}
spec:
  group: fidelity.example.com
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Colour, type: string, jsonPath: .spec.colour}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer}
              colour: {type: string, enum: [red, blue], default: red}
          status:
            type: object
            properties:
              ready: {type: boolean}
";

const GADGET: &str = "apiVersion: fidelity.example.com/v1
kind: Gadget
metadata: {name: small}
spec: {size: 2}
";

const GADGET_WRONG_TYPE: &str = "apiVersion: fidelity.example.com/v1
kind: Gadget
metadata: {name: wrong}
spec: {size: big, colour: green}
";

const GADGET_UNKNOWN_FIELD: &str = "apiVersion: fidelity.example.com/v1
kind: Gadget
metadata: {name: odd}
spec: {size: 1, weight: 3}
";

/// A maker of kubectl steps of one version, `{ns}` in their arguments being `ns`.
fn kubectl_step<'a>(
    minor: &'a str,
    binary: &'a Path,
    ns: &'a str,
) -> impl Fn(&str, Option<&str>) -> Step + 'a {
    move |args, stdin| Step::Kubectl {
        minor: minor.to_string(),
        binary: binary.to_path_buf(),
        args: shell_words(&args.replace("{ns}", ns)),
        stdin: stdin.map(str::to_string),
    }
}

/// Everyday kubectl use, in a namespace of this version's own.
pub fn kubectl_steps(minor: &str, binary: &Path) -> Vec<Step> {
    let ns = format!("fidelity-{}", minor.replace('.', "-"));
    let step = kubectl_step(minor, binary, &ns);
    vec![
        step("create namespace {ns}", None),
        step("get namespace {ns} -o jsonpath={.metadata.labels}", None),
        step("-n {ns} get serviceaccount default -o name", None),
        step("-n {ns} get configmap kube-root-ca.crt -o name", None),
        step(
            "-n default get service kubernetes -o jsonpath={.spec.ports}",
            None,
        ),
        step("-n {ns} apply -f -", Some(APP)),
        step("-n {ns} rollout status deployment/web --timeout 60s", None),
        step("-n {ns} get deployment web -o yaml", None),
        step("-n {ns} get deployments", None),
        step("-n {ns} get deployments -o wide", None),
        step("-n {ns} get configmap settings -o json", None),
        step(
            "-n {ns} get service web -o jsonpath={.spec.type}/{.spec.ports}",
            None,
        ),
        step(
            "-n {ns} get pods -l app=web -o jsonpath={range .items[*]}{.status.phase}/{.spec.nodeName}{\"\\n\"}{end}",
            None,
        ),
        step("-n {ns} create deployment api --image nginx:1.27", None),
        step("-n {ns} create configmap plain --from-literal a=b", None),
        step(
            "-n {ns} create secret generic creds --from-literal password=s3cret",
            None,
        ),
        step(
            "-n {ns} get secret creds -o jsonpath={.data.password}",
            None,
        ),
        step("-n {ns} scale deployment web --replicas 3", None),
        step("-n {ns} rollout status deployment/web --timeout 60s", None),
        step(
            "-n {ns} get deployment web -o jsonpath={.spec.replicas}/{.status.readyReplicas}",
            None,
        ),
        step("-n {ns} label configmap settings tier=front", None),
        step("-n {ns} annotate configmap settings note=hi", None),
        step(
            "-n {ns} patch configmap settings --type merge -p {\"data\":{\"b\":\"c\"}}",
            None,
        ),
        step(
            "-n {ns} patch deployment web --type json -p [{\"op\":\"replace\",\"path\":\"/spec/replicas\",\"value\":1}]",
            None,
        ),
        step("-n {ns} set image deployment/web web=nginx:1.28", None),
        step("-n {ns} rollout status deployment/web --timeout 60s", None),
        step("-n {ns} rollout history deployment/web", None),
        step("-n {ns} rollout undo deployment/web", None),
        step("-n {ns} rollout status deployment/web --timeout 60s", None),
        step("-n {ns} rollout history deployment/web", None),
        step(
            "-n {ns} get replicasets -l app=web --sort-by=.spec.template.spec.containers[0].image -o custom-columns=IMAGE:.spec.template.spec.containers[0].image,REPLICAS:.spec.replicas,REVISION:.metadata.annotations.deployment\\.kubernetes\\.io/revision",
            None,
        ),
        step(
            "-n {ns} get deployments --sort-by=.spec.replicas -o name",
            None,
        ),
        step("-n {ns} diff -f -", Some(CHANGED_SETTINGS)),
        step("-n {ns} apply --server-side -f -", Some(CHANGED_SETTINGS)),
        step(
            "-n {ns} get configmap settings -o jsonpath={.metadata.managedFields[*].manager}",
            None,
        ),
        step(
            "-n {ns} apply --dry-run=server -f -",
            Some(REPLICAS_AS_TEXT),
        ),
        step("-n {ns} create -f -", Some(DATA_AS_NUMBER)),
        step("-n {ns} apply --prune -l set=prune -f -", Some(PRUNABLE)),
        step("-n {ns} apply --prune -l set=prune -f -", Some(PRUNED)),
        step("-n {ns} get configmaps -l set=prune -o name", None),
        step("-n {ns} create job once --image busybox:1.36", None),
        step(
            "-n {ns} wait --for condition=complete job/once --timeout 60s",
            None,
        ),
        step("-n {ns} get jobs", None),
        step("-n {ns} auth can-i create deployments", None),
        step("auth can-i delete nodes", None),
        step("explain deployment.spec.replicas", None),
        step("get nodes -o name", None),
        step("get nodes", None),
        step("auth can-i --list --no-headers -n {ns}", None),
        step("-n {ns} delete deployment api", None),
        step("-n {ns} get deployment api", None),
        step("-n {ns} get configmap missing", None),
    ]
}

/// Custom resources held to their CRD (once: the CRD is the cluster's).
pub fn custom_resource_steps(minor: &str, binary: &Path) -> Vec<Step> {
    let step = kubectl_step(minor, binary, "fidelity-custom");
    vec![
        step("create namespace {ns}", None),
        step("apply -f -", Some(GADGET_CRD)),
        step(
            "wait --for condition=established crd/gadgets.fidelity.example.com --timeout 30s",
            None,
        ),
        step("-n {ns} apply -f -", Some(GADGET)),
        step("-n {ns} get gadget small -o jsonpath={.spec}", None),
        step("-n {ns} get gadgets", None),
        step("-n {ns} apply -f -", Some(GADGET_WRONG_TYPE)),
        step("-n {ns} apply -f -", Some(GADGET_UNKNOWN_FIELD)),
        step(
            "-n {ns} apply --validate=false -f -",
            Some(GADGET_UNKNOWN_FIELD),
        ),
        step("-n {ns} get gadget odd -o jsonpath={.spec}", None),
        step(
            "-n {ns} patch gadget small --subresource status --type merge -p {\"status\":{\"ready\":true}}",
            None,
        ),
        step(
            "-n {ns} get gadget small -o jsonpath={.status.ready}/{.metadata.managedFields[*].manager}/{.metadata.managedFields[*].subresource}",
            None,
        ),
        step("get crd gadgets.fidelity.example.com", None),
    ]
}

/// Requests as a program sends them, through kube-rs.
pub fn request_steps() -> Vec<Step> {
    let ns = "fidelity-requests";
    let request = |method: &'static str, path: &str, body: Option<&str>| Step::Request {
        method,
        path: path.replace("{ns}", ns),
        body: body.map(str::to_string),
    };
    vec![
        request(
            "POST",
            "/api/v1/namespaces",
            Some(r#"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{ns}"}}"#)
                .map(|b| b.replace("{ns}", ns))
                .as_deref(),
        ),
        // The Python client's typed create: no apiVersion or kind in the body.
        request(
            "POST",
            "/api/v1/namespaces/{ns}/configmaps",
            Some(r#"{"metadata":{"name":"typed"},"data":{"a":"b"}}"#),
        ),
        request("GET", "/api/v1/namespaces/{ns}/configmaps/typed", None),
        request(
            "POST",
            "/apis/apps/v1/namespaces/{ns}/deployments",
            Some(r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"nginx"}]}}}}"#),
        ),
        request("GET", "/apis/apps/v1/namespaces/{ns}/deployments/web/scale", None),
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/{ns}/deployments/web/scale",
            Some(r#"{"spec":{"replicas":2}}"#),
        ),
        // A client that sends managedFields on a patch sets them, as Argo CD's field manager
        // migration does.
        request(
            "PATCH",
            "/api/v1/namespaces/{ns}/configmaps/typed",
            Some(r#"{"metadata":{"managedFields":[{"manager":"argocd-controller","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:a":{}}}}]}}"#),
        ),
        request("GET", "/api/v1/namespaces/{ns}/configmaps/typed", None),
        request(
            "POST",
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            Some(r#"{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","resource":"pods","namespace":"{ns}"}}}"#)
                .map(|b| b.replace("{ns}", ns))
                .as_deref(),
        ),
        request("GET", "/api/v1/namespaces/{ns}/configmaps/missing", None),
        request("DELETE", "/api/v1/namespaces/{ns}/configmaps/typed", None),
    ]
}

/// Splits a command line on spaces outside quotes (enough for the steps above).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut depth = 0;
    for c in line.chars() {
        match c {
            '{' | '[' => {
                depth += 1;
                word.push(c)
            }
            '}' | ']' => {
                depth -= 1;
                word.push(c)
            }
            ' ' if depth == 0 => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}
