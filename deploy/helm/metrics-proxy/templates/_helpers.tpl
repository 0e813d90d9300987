{{/*
The names are fixed, as in deploy/ (the webhook configurations and ClusterRoles are cluster-wide:
one release per cluster); everything namespaced follows the release's namespace.
*/}}
{{- define "metrics-proxy.secretName" -}}metrics-proxy-webhook-tls{{- end }}
{{- define "metrics-proxy.serviceName" -}}metrics-proxy-webhook{{- end }}

{{/* Labels of every object: the name deploy/ gives them, and Helm's own. */}}
{{- define "metrics-proxy.labels" -}}
app.kubernetes.io/name: metrics-proxy
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The webhook server's pods, as the Deployment, the Service, the PDB and the NetworkPolicy select them. */}}
{{- define "metrics-proxy.selectorLabels" -}}
app.kubernetes.io/name: metrics-proxy
app.kubernetes.io/component: webhook
{{- end }}

{{/*
A webhook entry's namespaceSelector: the injection label when enabledOnly, and always the
excluded namespaces plus the release's own (as deploy/base excludes metrics-proxy-system): an
outage of the webhook never blocks writes there.
With notEnabled, only namespaces without the injection label.
Call with (dict "root" $ "enabledOnly" true|false ["notEnabled" true]).
*/}}
{{- define "metrics-proxy.namespaceSelector" -}}
namespaceSelector:
{{- if .enabledOnly }}
  matchLabels:
    metrics-proxy.io/injection: enabled
{{- end }}
  matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values: {{ append .root.Values.excludedNamespaces .root.Release.Namespace | uniq | toJson }}
{{- if .notEnabled }}
  - key: metrics-proxy.io/injection
    operator: NotIn
    values: [enabled]
{{- end }}
{{- end }}

{{/*
What every webhook entry shares, for the server's path. Call with (dict "root" $ "path" "/...").
*/}}
{{- define "metrics-proxy.webhookCommon" -}}
{{- if and .root.Values.certificate.caBundle (ne .root.Values.certificate.mode "files") }}
{{- fail (printf "certificate.caBundle is for files mode only: in %s mode the caBundle is kept current for you; unset it or set certificate.mode=files" .root.Values.certificate.mode) }}
{{- end }}
admissionReviewVersions: [v1]
sideEffects: None
failurePolicy: Fail
matchPolicy: Equivalent
timeoutSeconds: {{ .root.Values.webhook.timeoutSeconds }}
clientConfig:
  {{- if and (eq .root.Values.certificate.mode "files") .root.Values.certificate.caBundle }}
  caBundle: {{ .root.Values.certificate.caBundle }}
  {{- end }}
  service:
    name: {{ include "metrics-proxy.serviceName" .root }}
    namespace: {{ .root.Release.Namespace }}
    path: {{ .path }}
    port: 443
{{- end }}

{{/* The cert-manager CA injector's annotation, in cert-manager mode. */}}
{{- define "metrics-proxy.caInjection" -}}
{{- if eq .Values.certificate.mode "cert-manager" }}
annotations:
  cert-manager.io/inject-ca-from: {{ .Release.Namespace }}/metrics-proxy-webhook
{{- end }}
{{- end }}

{{/* The DaemonSet opt-out match condition of the namespace-selected entries. */}}
{{- define "metrics-proxy.notOptedOut" -}}
matchConditions:
- name: not-opted-out
  expression: >-
    !has(object.metadata.labels) ||
    !('metrics-proxy.io/inject' in object.metadata.labels) ||
    object.metadata.labels['metrics-proxy.io/inject'] != 'false'
{{- end }}
