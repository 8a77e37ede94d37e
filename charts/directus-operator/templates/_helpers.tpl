{{/*
The chart name, or nameOverride.
*/}}
{{- define "directus-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The full name: fullnameOverride, or release-chart (just the release name when
it already contains the chart name). Truncated to 63 characters (DNS label).
*/}}
{{- define "directus-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "directus-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels on every object.
*/}}
{{- define "directus-operator.labels" -}}
helm.sh/chart: {{ include "directus-operator.chart" . }}
{{ include "directus-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: directus-operator
{{- end }}

{{/*
Selector labels: stable across upgrades (a Deployment's selector is immutable).
*/}}
{{- define "directus-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "directus-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller-manager
{{- end }}

{{- define "directus-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "directus-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest when a digest is set, else
repository:tag with the tag defaulting to the chart's appVersion.
*/}}
{{- define "directus-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
The operator's rules on the objects it watches and writes. Keep in step with
config/rbac/role.yaml (generated from the +kubebuilder:rbac markers); the
test/deploy suite fails when they differ.
*/}}
{{- define "directus-operator.managerRules" -}}
- apiGroups: [""]
  resources: [configmaps]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [""]
  resources: [secrets]
  verbs: [create, delete, get, list, patch, update, watch]
- apiGroups: ["", events.k8s.io]
  resources: [events]
  verbs: [create, patch]
- apiGroups: [realtime.directus-operator.io]
  resources: [directussubscriptions]
  verbs: [get, list, patch, update, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [directussubscriptions/finalizers]
  verbs: [update]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections, directusconnections]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections/status, directusconnections/status, directussubscriptions/status]
  verbs: [get, patch, update]
{{- end }}

{{/*
The manager rules on cluster-scoped objects: namespace labels (for the
conditions of ClusterDirectusConnections) and ClusterDirectusConnections.
A namespaced install grants them with a ClusterRole of their own, since a
Role cannot.
*/}}
{{- define "directus-operator.clusterScopedRules" -}}
- apiGroups: [""]
  resources: [namespaces]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections]
  verbs: [get, list, watch]
- apiGroups: [realtime.directus-operator.io]
  resources: [clusterdirectusconnections/status]
  verbs: [get, patch, update]
{{- end }}

{{/*
The TLS Secret mounted for the metrics endpoint, or nothing.
*/}}
{{- define "directus-operator.metricsCertSecret" -}}
{{- if and .Values.metrics.enabled .Values.metrics.secure }}{{ .Values.metrics.certSecret }}{{ end }}
{{- end }}

{{/*
The name of the metrics Service's port: https or http-metrics.
*/}}
{{- define "directus-operator.metricsPortName" -}}
{{- if .Values.metrics.secure }}https{{ else }}http-metrics{{ end }}
{{- end }}
