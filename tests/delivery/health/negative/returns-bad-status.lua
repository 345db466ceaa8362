-- Must FAIL under the harness: "Ready" is not an Argo CD health status.
return { status = "Ready", message = "" }
