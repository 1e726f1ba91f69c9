{{/*
Names and labels shared by every template.
*/}}

{{/* The chart's name (63 characters at most: a label value). */}}
{{- define "freechat.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
The release's full name: the release name when it already contains the chart's name (release
"freechat" gives "freechat"), else <release>-freechat. 52 characters, leaving room for suffixes.
*/}}
{{- define "freechat.fullname" -}}
{{- if contains (include "freechat.name" .) .Release.Name -}}
{{- .Release.Name | trunc 52 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "freechat.name" .) | trunc 52 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The operator's Deployment, Service, ClusterRoles and bindings: <fullname>-operator. */}}
{{- define "freechat.operatorName" -}}
{{- printf "%s-operator" (include "freechat.fullname" .) -}}
{{- end -}}

{{- define "freechat.serviceAccountName" -}}
{{- default (include "freechat.operatorName" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/* helm.sh/chart: <name>-<version>, "+" (not allowed in a label) as "_". */}}
{{- define "freechat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels on everything the chart creates. */}}
{{- define "freechat.commonLabels" -}}
helm.sh/chart: {{ include "freechat.chart" . }}
app.kubernetes.io/name: {{ include "freechat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: freechat
{{- end -}}

{{/* Labels on the operator's objects. */}}
{{- define "freechat.labels" -}}
{{ include "freechat.commonLabels" . }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* What the operator's Deployment and Service select its pods by (never changes across upgrades). */}}
{{- define "freechat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "freechat.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{/* The operator's image: <registry>/operator:<tag>, the tag defaulting to appVersion. */}}
{{- define "freechat.image" -}}
{{- printf "%s/operator:%s" .Values.image.registry (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}

{{/* Where the optional FreeChat instance goes. */}}
{{- define "freechat.instanceNamespace" -}}
{{- default .Release.Namespace .Values.instance.namespace -}}
{{- end -}}
