{{/* Chart name, overridable with nameOverride (an umbrella alias also changes .Chart.Name). */}}
{{- define "todo-frontend.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<name>, or just <release> when it already contains the name.
63 characters at most (DNS label).
*/}}
{{- define "todo-frontend.fullname" -}}
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

{{/* chart label value: name-version */}}
{{- define "todo-frontend.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels shared by every object (never carry a value from secrets). */}}
{{- define "todo-frontend.commonLabels" -}}
helm.sh/chart: {{ include "todo-frontend.chart" . }}
app.kubernetes.io/name: {{ include "todo-frontend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: {{ .Values.partOf }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Labels of the web objects (Deployment, Service, ConfigMap, ...). */}}
{{- define "todo-frontend.labels" -}}
{{ include "todo-frontend.commonLabels" . }}
app.kubernetes.io/component: web
{{- end }}

{{/* Selector labels of the web pods. The component keeps the helm-test pod out of the Service's endpoints. */}}
{{- define "todo-frontend.selectorLabels" -}}
app.kubernetes.io/name: {{ include "todo-frontend.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: web
{{- end }}

{{/* Name of the ServiceAccount the pods run as. */}}
{{- define "todo-frontend.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "todo-frontend.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Image reference; the tag defaults to the chart's appVersion. */}}
{{- define "todo-frontend.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}

{{/* BACKEND_URL: templated, so an umbrella chart can point at its own release's backend. */}}
{{- define "todo-frontend.backendUrl" -}}
{{- tpl .Values.backendUrl . | trimSuffix "/" }}
{{- end }}

{{/* Validation that JSON schema cannot express; fails with a message naming the key. */}}
{{- define "todo-frontend.validate" -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail (printf "autoscaling.minReplicas (%d) must be <= autoscaling.maxReplicas (%d)" (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- end -}}
{{- if and .Values.service.nodePort (not (has .Values.service.type (list "NodePort" "LoadBalancer"))) -}}
{{- fail (printf "service.nodePort is only used with service.type NodePort or LoadBalancer (service.type is %s)" .Values.service.type) -}}
{{- end -}}
{{- if not (regexMatch "^https?://[^/]+" (include "todo-frontend.backendUrl" .)) -}}
{{- fail (printf "backendUrl must be an http(s) URL such as http://todo-backend:8001 (got %q)" (include "todo-frontend.backendUrl" .)) -}}
{{- end -}}
{{- end }}
