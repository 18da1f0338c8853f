<#
.SYNOPSIS
  Installs the azure-spot-restarter agent on a Windows Spot VM: a scheduled task that starts it at
  boot as SYSTEM and starts it again within a minute whenever it stops.
.DESCRIPTION
  The task is azure-spot-restarter-agent.task.xml, beside this script (it says why each setting
  is what it is); this script fills in the paths and registers it with Register-ScheduledTask -Xml.
  Settings and secrets go to %ProgramData%\azure-spot-restarter-agent, readable by SYSTEM and
  Administrators only. Runs in Windows PowerShell 5.1 and in PowerShell 7.
.EXAMPLE
  .\install.ps1 -Repository acme/spot-restarts -TokenFile C:\secure\token.txt
.EXAMPLE
  .\install.ps1 -Repository acme/spot-restarts -AppId 123 -InstallationId 456 -PrivateKeyFile C:\secure\app.pem
.NOTES
  Needs Node.js 20.6 or newer: the task hands the agent its settings with node's --env-file, which
  Node.js 20.6 added. With an older node the script stops before it changes anything and says
  which version it found. Run as Administrator.
#>
[CmdletBinding()]
param(
  [Parameter(Mandatory = $true)][ValidatePattern('^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$')][string]$Repository,
  [string]$TokenFile,
  [string]$AppId,
  [string]$InstallationId,
  [string]$PrivateKeyFile,
  [string]$OnPreempt,
  [switch]$Approve,
  [string]$EventType,
  [string]$GitHubApiUrl,
  [string]$Bundle = (Join-Path $PSScriptRoot '..\..\dist\azure-spot-restarter-agent.cjs')
)
$ErrorActionPreference = 'Stop'
$taskName = 'azure-spot-restarter-agent'
$taskTemplate = Join-Path $PSScriptRoot 'azure-spot-restarter-agent.task.xml'
# From a release download, the bundle sits beside this script.
$besideScript = Join-Path $PSScriptRoot 'azure-spot-restarter-agent.cjs'
if (-not $PSBoundParameters.ContainsKey('Bundle') -and -not (Test-Path -LiteralPath $Bundle) -and (Test-Path -LiteralPath $besideScript)) { $Bundle = $besideScript }

# Everything that can refuse the installation is checked before anything is changed.
if (-not ([System.Security.Principal.WindowsPrincipal][System.Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([System.Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run this script as Administrator.'
}
$node = (Get-Command -Name node.exe -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1).Path
if (-not $node) { throw 'Node.js 20.6 or newer is required and node.exe is not on the PATH (winget install OpenJS.NodeJS.LTS). Nothing was changed.' }
$found = "$(& $node --version)".Trim()
if ($found -notmatch '^v\d+\.\d+\.\d+$') { throw "Could not read the version of $node (it printed '$found'). Nothing was changed." }
if ([version]$found.Substring(1) -lt [version]'20.6.0') {
  throw "Node.js $found at $node is too old: the task hands the agent its settings with --env-file, which Node.js 20.6 added. Install Node.js 20.6 or newer (winget install OpenJS.NodeJS.LTS) and run this script again. Nothing was changed."
}
if (-not (Test-Path -LiteralPath $Bundle)) { throw "Agent bundle not found at $Bundle (give -Bundle). Nothing was changed." }
if (-not (Test-Path -LiteralPath $taskTemplate)) { throw "Task definition not found at $taskTemplate (keep it beside install.ps1). Nothing was changed." }
if (-not $TokenFile -and -not $AppId -and -not $env:SPOT_AGENT_GITHUB_TOKEN) {
  throw 'Give GitHub credentials: -AppId/-InstallationId/-PrivateKeyFile (recommended), -TokenFile, or $env:SPOT_AGENT_GITHUB_TOKEN.'
}
if ($AppId -and (-not $InstallationId -or -not $PrivateKeyFile)) { throw '-AppId needs -InstallationId and -PrivateKeyFile.' }

$programDir = Join-Path $env:ProgramFiles 'azure-spot-restarter-agent'
$dataDir = Join-Path $env:ProgramData 'azure-spot-restarter-agent'
$installedBundle = Join-Path $programDir 'azure-spot-restarter-agent.cjs'
$envFile = Join-Path $dataDir 'agent.env'
New-Item -ItemType Directory -Force -Path $programDir, $dataDir | Out-Null
Copy-Item -LiteralPath $Bundle -Destination $installedBundle -Force

# Only SYSTEM and Administrators may read the settings and secrets. By SID (S-1-5-18 LocalSystem,
# S-1-5-32-544 Administrators): account names are translated on a localized Windows.
function Protect([string]$Path) {
  $acl = New-Object System.Security.AccessControl.DirectorySecurity
  $acl.SetAccessRuleProtection($true, $false)
  foreach ($sid in 'S-1-5-18', 'S-1-5-32-544') {
    $who = New-Object System.Security.Principal.SecurityIdentifier($sid)
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
  }
  Set-Acl -LiteralPath $Path -AclObject $acl
}
Protect $dataDir

# Windows keeps no output of a scheduled task: the agent also writes its log next to its state.
$settings = @("SPOT_AGENT_REPOSITORY=$Repository", "SPOT_AGENT_STATE_FILE=$dataDir\state.json", "SPOT_AGENT_LOG_FILE=$dataDir\agent.log")
if ($AppId) {
  Copy-Item -LiteralPath $PrivateKeyFile -Destination (Join-Path $dataDir 'github-app.pem') -Force
  $settings += "SPOT_AGENT_APP_ID=$AppId", "SPOT_AGENT_INSTALLATION_ID=$InstallationId", "SPOT_AGENT_PRIVATE_KEY_FILE=$dataDir\github-app.pem"
} elseif ($TokenFile) {
  Copy-Item -LiteralPath $TokenFile -Destination (Join-Path $dataDir 'token') -Force
  $settings += "SPOT_AGENT_TOKEN_FILE=$dataDir\token"
} else {
  [System.IO.File]::WriteAllText((Join-Path $dataDir 'token'), $env:SPOT_AGENT_GITHUB_TOKEN)
  $settings += "SPOT_AGENT_TOKEN_FILE=$dataDir\token"
}
if ($OnPreempt) { $settings += "SPOT_AGENT_ON_PREEMPT=$OnPreempt" }
if ($Approve) { $settings += 'SPOT_AGENT_APPROVE=true' }
if ($EventType) { $settings += "SPOT_AGENT_EVENT_TYPE=$EventType" }
if ($GitHubApiUrl) { $settings += "SPOT_AGENT_GITHUB_API_URL=$GitHubApiUrl" }
# UTF-8 without a byte-order mark, which node's --env-file reads as written (Windows PowerShell
# 5.1's Set-Content would write the ANSI code page).
[System.IO.File]::WriteAllLines($envFile, [string[]]$settings)

# The task definition with this machine's paths, each XML-escaped so no path can break the XML.
$taskValues = [ordered]@{ NODE = $node; ENV_FILE = $envFile; BUNDLE = $installedBundle; DATA_DIR = $dataDir }
$taskXml = Get-Content -LiteralPath $taskTemplate -Raw -Encoding UTF8
foreach ($name in $taskValues.Keys) {
  $taskXml = $taskXml.Replace("{{$name}}", [System.Security.SecurityElement]::Escape($taskValues[$name]))
}
if ($taskXml -match '\{\{\w+\}\}') { throw "$taskTemplate has a placeholder this script does not fill: $($Matches[0])" }
$exec = ([xml]$taskXml).Task.Actions.Exec

Write-Host 'Checking the set-up (IMDS, Spot, tag, GitHub credentials):'
# The task's own command line plus --check, so a node that refuses a flag fails here, not at boot.
$check = Start-Process -FilePath $exec.Command -ArgumentList "$($exec.Arguments) --check" -WorkingDirectory $exec.WorkingDirectory -NoNewWindow -Wait -PassThru
if ($check.ExitCode -ne 0) { throw 'The check found problems; fix them and run the installer again. The scheduled task was not changed.' }

# A running agent keeps the settings it started with: stop it, so the task starts the new one.
if (Get-ScheduledTask -TaskName $taskName -ErrorAction SilentlyContinue) { Stop-ScheduledTask -TaskName $taskName }
Register-ScheduledTask -TaskName $taskName -Xml $taskXml -Force | Out-Null
Start-ScheduledTask -TaskName $taskName
Write-Host "Installed: scheduled task $taskName (starts at boot as SYSTEM, and again within a minute if it stops)."
