{{/* Chart name. */}}
{{- define "vpn-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, plus the chart name unless the release name contains it. */}}
{{- define "vpn-operator.fullname" -}}
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

{{- define "vpn-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vpn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: controller
{{- end }}

{{- define "vpn-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "vpn-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: vpn-operator
{{- end }}

{{- define "vpn-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "vpn-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The credentials Secret's name, or "" when there is none (allowed with cloud: sim). */}}
{{- define "vpn-operator.credentialsSecret" -}}
{{- if .Values.credentials.create }}
{{- printf "%s-credentials" (include "vpn-operator.fullname" .) | trunc 253 }}
{{- else }}
{{- .Values.credentials.existingSecret }}
{{- end }}
{{- end }}

{{/* The watched namespaces (watchNamespace and watchNamespaces, sorted, once each),
comma-separated; "" = all namespaces. */}}
{{- define "vpn-operator.watchNamespaces" -}}
{{- $all := .Values.watchNamespaces | default list }}
{{- with .Values.watchNamespace }}{{ $all = append $all . }}{{ end }}
{{- $all | uniq | sortAlpha | join "," }}
{{- end }}

{{- define "vpn-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
