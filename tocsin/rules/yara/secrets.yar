/*
 * tocsin built-in content rules: secrets leaving in clear.
 * Matched strings are masked in alerts (pa****rd); only their offsets and shapes are shown.
 */

rule tocsin_private_key
{
    meta:
        title = "Private Key In Clear"
        description = "A private key (PEM/OpenSSH/PuTTY) in clear"
        severity = "high"
        mitre = "T1552.004"
    strings:
        $pem = /-----BEGIN (RSA |DSA |EC |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----/
        $putty = "PuTTY-User-Key-File-" ascii
    condition:
        any of them
}

rule tocsin_aws_access_key
{
    meta:
        title = "AWS Access Key With Its Secret"
        description = "An AWS access key id, with a secret access key nearby"
        severity = "high"
    strings:
        $id = /\b(AKIA|ASIA)[0-9A-Z]{16}\b/
        $secret = /aws_?secret_?access_?key["']?\s*[:=]\s*["']?[A-Za-z0-9\/+=]{40}/ nocase
    condition:
        $id and $secret
}

rule tocsin_aws_access_key_id
{
    meta:
        title = "AWS Long-Term Access Key Id"
        description = "An AWS long-term access key id"
        severity = "medium"
    strings:
        $id = /\bAKIA[0-9A-Z]{16}\b/
    condition:
        $id
}

rule tocsin_gcp_service_account_key
{
    meta:
        title = "Google Cloud Service-Account Key"
        description = "A Google Cloud service-account key file"
        severity = "high"
    strings:
        $type = "\"type\": \"service_account\"" ascii
        $key = "\"private_key\":" ascii
    condition:
        all of them
}

rule tocsin_azure_storage_key
{
    meta:
        title = "Azure Storage Account Key"
        description = "An Azure storage connection string with its account key"
        severity = "high"
    strings:
        $conn = /AccountKey=[A-Za-z0-9+\/]{86}==/
    condition:
        $conn
}

rule tocsin_github_token
{
    meta:
        title = "GitHub Token"
        description = "A GitHub personal access, OAuth or app token"
        severity = "high"
    strings:
        $classic = /\bgh[pousr]_[A-Za-z0-9]{36}\b/
        $fine = /\bgithub_pat_[A-Za-z0-9_]{82}\b/
    condition:
        any of them
}

rule tocsin_slack_token
{
    meta:
        title = "Slack Token Or Webhook"
        description = "A Slack token or incoming webhook"
        severity = "high"
    strings:
        $token = /\bxox[abposr]-[0-9A-Za-z-]{10,}/
        $hook = /hooks\.slack\.com\/services\/T[A-Z0-9]{8,}\/B[A-Z0-9]{8,}\/[A-Za-z0-9]{20,}/
    condition:
        any of them
}

rule tocsin_jwt
{
    meta:
        title = "JSON Web Token"
        description = "A JSON Web Token (bearer credential)"
        severity = "medium"
    strings:
        $jwt = /\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/
    condition:
        $jwt
}

rule tocsin_password_in_url
{
    meta:
        title = "Password In A URL"
        description = "Credentials embedded in a URL (scheme://user:password@host)"
        severity = "medium"
    strings:
        $url = /\b[a-z][a-z0-9+.-]{1,15}:\/\/[^\/\s:@"']{1,64}:[^\/\s@"']{1,64}@[A-Za-z0-9.-]{3,}/ nocase
    condition:
        $url
}

rule tocsin_password_in_form
{
    meta:
        title = "Password In A Form Or Query String"
        description = "A password field in a submitted form or query string"
        severity = "medium"
    strings:
        $form = /(^|[?&\s])(pass|passwd|password|pwd|pword)=[^&\s]{3,}/ nocase
    condition:
        $form
}
