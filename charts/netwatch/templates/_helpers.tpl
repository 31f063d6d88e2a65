{{- define "netwatch.labels" -}}
app.kubernetes.io/name: netwatch
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: netwatch
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- with .Values.extraLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "netwatch.selectorLabels" -}}
app.kubernetes.io/name: netwatch
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "netwatch.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default "netwatch" -}}
{{- end -}}

{{/* The release name when it already says netwatch, else <release>-netwatch. */}}
{{- define "netwatch.fullname" -}}
{{- if contains "netwatch" .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-netwatch" .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
