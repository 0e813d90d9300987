package seed

import (
	"fmt"
	"strings"
)

// What kube-prometheus-stack (KPS) installs for the four components, written from its chart with
// default values: prometheus-community/helm-charts, charts/kube-prometheus-stack version 88.5.3
// (commit cf408a2), templates/exporters/{kube-controller-manager,kube-scheduler,kube-proxy,
// kube-etcd}/{service,servicemonitor}.yaml and values.yaml, release "kps" in namespace
// Namespace (fullname kps-kube-prometheus-stack). The chart's common labels (chart, heritage,
// app.kubernetes.io/*) are left out: nothing selects them.
const (
	// KPSRelease is the Helm release name the objects carry.
	KPSRelease = "kps"
	// KPSPrometheus is the Prometheus resource's name, KPS's <fullname>-prometheus.
	KPSPrometheus = "kps-kube-prometheus-stack-prometheus"
	kpsFullname   = "kps-kube-prometheus-stack"
)

// KPSTarget is one of KPS's default scrape targets.
type KPSTarget struct {
	// Job is the Service's jobLabel label, the job of the series; Chart is the exporter's
	// directory and app suffix.
	Job, Chart string
	Port       int
	// Selector is the Service's default selector (kubeadm's static pod labels, kube-proxy's).
	Selector string
	// HTTPS: scheme https with insecureSkipVerify (kubeControllerManager and kubeScheduler
	// default to it on Kubernetes >= 1.22/1.23); the token goes with every scrape either way
	// (kubeProxy and kubeEtcd set bearerTokenFile by default).
	HTTPS bool
}

// Service is the name of the target's headless Service (and ServiceMonitor).
func (t KPSTarget) Service() string { return kpsFullname + "-" + t.Chart }

// KPSTargets are KPS's default scrape targets of the four components.
var KPSTargets = []KPSTarget{
	{Job: "kube-controller-manager", Chart: "kube-controller-manager", Port: 10257, Selector: "component: kube-controller-manager", HTTPS: true},
	{Job: "kube-scheduler", Chart: "kube-scheduler", Port: 10259, Selector: "component: kube-scheduler", HTTPS: true},
	{Job: "kube-proxy", Chart: "kube-proxy", Port: 10249, Selector: "k8s-app: kube-proxy"},
	{Job: "kube-etcd", Chart: "kube-etcd", Port: 2381, Selector: "component: etcd"},
}

// KPSObjects returns the Services and ServiceMonitors as KPS renders them with default values.
func KPSObjects() string {
	var b strings.Builder
	for _, t := range KPSTargets {
		name := t.Service()
		fmt.Fprintf(&b, `apiVersion: v1
kind: Service
metadata:
  name: %[1]s
  labels:
    app: kube-prometheus-stack-%[2]s
    jobLabel: %[3]s
    release: %[4]q
  namespace: kube-system
spec:
  clusterIP: None
  ports:
    - name: http-metrics
      port: %[5]d
      protocol: TCP
      targetPort: %[5]d
  selector:
    %[6]s
  type: ClusterIP
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata:
  name: %[1]s
  namespace: %[7]s
  labels:
    app: kube-prometheus-stack-%[2]s
    release: %[4]q
spec:
  jobLabel: jobLabel
  selector:
    matchLabels:
      app: kube-prometheus-stack-%[2]s
      release: %[4]q
  namespaceSelector:
    matchNames:
      - "kube-system"
  endpoints:
  - port: http-metrics
    bearerTokenFile: /var/run/secrets/kubernetes.io/serviceaccount/token
`, name, t.Chart, t.Job, KPSRelease, t.Port, t.Selector, Namespace)
		if t.HTTPS {
			b.WriteString(`    scheme: https
    tlsConfig:
      caFile: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
      insecureSkipVerify: true
`)
		}
		b.WriteString("---\n")
	}
	return b.String()
}

// MixinAlerts are the alerts the run loads and expects neither pending nor firing, with their
// published expressions as KPS 88.5.3 renders them (templates/prometheus/rules-1.14/): from the
// kubernetes-mixin (version-1.5.6, alerts/kube_controller_manager.libsonnet, kube_scheduler,
// kube_proxy through lib/absent_alert.libsonnet and lib/instance_unreachable_alert.libsonnet,
// selectors job="kube-controller-manager", job="kube-scheduler", job="kube-proxy"), from the etcd
// mixin (etcd-io/etcd contrib/mixin/alerts/alerts.libsonnet, etcd_selector job=~".*etcd.*",
// etcd_instance_labels "instance, pod" as kube-prometheus sets it) and kube-prometheus's
// general.rules TargetDown. The "for" durations are the published ones.
var MixinAlerts = []struct{ Name, Expr, For string }{
	{"KubeControllerManagerDown", `absent(up{job="kube-controller-manager"})`, "15m"},
	{"KubeControllerManagerInstanceUnreachable", `up{job="kube-controller-manager"} == 0`, "15m"},
	{"KubeSchedulerDown", `absent(up{job="kube-scheduler"})`, "15m"},
	{"KubeSchedulerInstanceUnreachable", `up{job="kube-scheduler"} == 0`, "15m"},
	{"KubeProxyDown", `absent(up{job="kube-proxy"})`, "15m"},
	{"KubeProxyInstanceUnreachable", `up{job="kube-proxy"} == 0`, "15m"},
	{"etcdMembersDown", `max without (endpoint) (
  sum without (instance, pod) (up{job=~".*etcd.*"} == bool 0)
or
  count without (To) (
    sum without (instance, pod) (rate(etcd_network_peer_sent_failures_total{job=~".*etcd.*"}[120s])) > 0.01
  )
)
> 0`, "20m"},
	{"etcdInsufficientMembers", `sum(up{job=~".*etcd.*"} == bool 1) without (instance, pod) < ((count(up{job=~".*etcd.*"}) without (instance, pod) + 1) / 2)`, "3m"},
	{"TargetDown", `100 * (count(up == 0) BY (cluster, job, namespace, service) / count(up) BY (cluster, job, namespace, service)) > 10`, "10m"},
}

// KPSRules is the PrometheusRule holding MixinAlerts, selected by KPS's default ruleSelector
// (release: kps).
func KPSRules() string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: %s-mixin-alerts
  namespace: %s
  labels:
    release: %q
spec:
  groups:
  - name: mixin-alerts
    rules:
`, kpsFullname, Namespace, KPSRelease)
	for _, a := range MixinAlerts {
		fmt.Fprintf(&b, "    - alert: %s\n      expr: |-\n        %s\n      for: %s\n      labels: {severity: warning}\n",
			a.Name, strings.ReplaceAll(a.Expr, "\n", "\n        "), a.For)
	}
	return b.String()
}

// KPSPrometheusObjects is the Prometheus resource and its RBAC as KPS renders them, except for the
// intervals (5s instead of 30s, so that the run takes seconds), the service-discovery role
// (EndpointSlice: the endpointslice controller's objects) and the service account (the scraper
// that render's metrics-reader binding names).
func KPSPrometheusObjects() string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: %[1]s-prometheus
rules:
- apiGroups: [""]
  resources: [nodes, nodes/metrics, services, endpoints, pods]
  verbs: ["get", "list", "watch"]
- apiGroups: ["discovery.k8s.io"]
  resources: [endpointslices]
  verbs: ["get", "list", "watch"]
- nonResourceURLs: ["/metrics"]
  verbs: ["get"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: %[1]s-prometheus
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: %[1]s-prometheus
subjects:
- kind: ServiceAccount
  name: %[2]s
  namespace: %[3]s
---
apiVersion: monitoring.coreos.com/v1
kind: Prometheus
metadata:
  name: %[4]s
  namespace: %[3]s
spec:
  serviceAccountName: %[2]s
  serviceMonitorSelector:
    matchLabels:
      release: %[5]q
  serviceMonitorNamespaceSelector: {}
  ruleSelector:
    matchLabels:
      release: %[5]q
  ruleNamespaceSelector: {}
  scrapeInterval: 5s
  evaluationInterval: 5s
  serviceDiscoveryRole: EndpointSlice
`, kpsFullname, Scraper, Namespace, KPSPrometheus, KPSRelease)
}
