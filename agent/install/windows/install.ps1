<#
.SYNOPSIS
  Installs the azure-spot-restarter agent on a Windows Spot VM: a scheduled task that starts at
  boot as SYSTEM and is restarted when it stops.
.EXAMPLE
  .\install.ps1 -Repository acme/spot-restarts -TokenFile C:\secure\token.txt
.EXAMPLE
  .\install.ps1 -Repository acme/spot-restarts -AppId 123 -InstallationId 456 -PrivateKeyFile C:\secure\app.pem
.NOTES
  Needs Node.js 20.6 or newer (the task passes settings with --env-file). Run as Administrator.
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
# Node.js flags of the agent, the same as in the systemd unit (a test holds them together):
# --jitless, V8 interprets and never compiles to machine code — a smaller memory footprint that
# stays flat, for a process that polls once a second (docs/performance.md).
$nodeFlags = @('--jitless')
# From a release download, the bundle sits beside this script.
$besideScript = Join-Path $PSScriptRoot 'azure-spot-restarter-agent.cjs'
if (-not $PSBoundParameters.ContainsKey('Bundle') -and -not (Test-Path $Bundle) -and (Test-Path $besideScript)) { $Bundle = $besideScript }

if (-not ([Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()).IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) {
  throw 'Run this script as Administrator.'
}
$node = (Get-Command node.exe -ErrorAction SilentlyContinue).Source
if (-not $node) { throw 'Node.js 20.6 or newer is required (winget install OpenJS.NodeJS.LTS).' }
$version = [version]((& $node --version).TrimStart('v'))
if ($version -lt [version]'20.6.0') { throw "Node.js 20.6 or newer is required, found $version." }
if (-not (Test-Path $Bundle)) { throw "Agent bundle not found at $Bundle (give -Bundle)." }
if (-not $TokenFile -and -not $AppId -and -not $env:SPOT_AGENT_GITHUB_TOKEN) {
  throw 'Give GitHub credentials: -AppId/-InstallationId/-PrivateKeyFile (recommended), -TokenFile, or $env:SPOT_AGENT_GITHUB_TOKEN.'
}

$programDir = Join-Path $env:ProgramFiles 'azure-spot-restarter-agent'
$dataDir = Join-Path $env:ProgramData 'azure-spot-restarter-agent'
New-Item -ItemType Directory -Force -Path $programDir, $dataDir | Out-Null
Copy-Item $Bundle (Join-Path $programDir 'azure-spot-restarter-agent.cjs') -Force

# Only SYSTEM and Administrators may read the settings and secrets.
function Protect([string]$Path) {
  $acl = New-Object System.Security.AccessControl.DirectorySecurity
  $acl.SetAccessRuleProtection($true, $false)
  foreach ($who in 'NT AUTHORITY\SYSTEM', 'BUILTIN\Administrators') {
    $acl.AddAccessRule((New-Object System.Security.AccessControl.FileSystemAccessRule($who, 'FullControl', 'ContainerInherit,ObjectInherit', 'None', 'Allow')))
  }
  Set-Acl -Path $Path -AclObject $acl
}
Protect $dataDir

$settings = @("SPOT_AGENT_REPOSITORY=$Repository", "SPOT_AGENT_STATE_FILE=$dataDir\state.json")
if ($AppId) {
  if (-not $InstallationId -or -not $PrivateKeyFile) { throw '-AppId needs -InstallationId and -PrivateKeyFile.' }
  Copy-Item $PrivateKeyFile (Join-Path $dataDir 'github-app.pem') -Force
  $settings += "SPOT_AGENT_APP_ID=$AppId", "SPOT_AGENT_INSTALLATION_ID=$InstallationId", "SPOT_AGENT_PRIVATE_KEY_FILE=$dataDir\github-app.pem"
} elseif ($TokenFile) {
  Copy-Item $TokenFile (Join-Path $dataDir 'token') -Force
  $settings += "SPOT_AGENT_TOKEN_FILE=$dataDir\token"
} else {
  Set-Content -Path (Join-Path $dataDir 'token') -Value $env:SPOT_AGENT_GITHUB_TOKEN -NoNewline
  $settings += "SPOT_AGENT_TOKEN_FILE=$dataDir\token"
}
if ($OnPreempt) { $settings += "SPOT_AGENT_ON_PREEMPT=$OnPreempt" }
if ($Approve) { $settings += 'SPOT_AGENT_APPROVE=true' }
if ($EventType) { $settings += "SPOT_AGENT_EVENT_TYPE=$EventType" }
if ($GitHubApiUrl) { $settings += "SPOT_AGENT_GITHUB_API_URL=$GitHubApiUrl" }
$envFile = Join-Path $dataDir 'agent.env'
Set-Content -Path $envFile -Value $settings

Write-Host 'Checking the set-up (IMDS, Spot, tag, GitHub credentials):'
& $node "--env-file=$envFile" @nodeFlags (Join-Path $programDir 'azure-spot-restarter-agent.cjs') --check
if ($LASTEXITCODE -ne 0) { throw 'The check found problems; fix them and run the installer again.' }

# A task that starts at boot, as SYSTEM, never times out, and is restarted when it stops.
$action = New-ScheduledTaskAction -Execute $node -Argument "--env-file=`"$envFile`" $($nodeFlags -join ' ') `"$programDir\azure-spot-restarter-agent.cjs`"" -WorkingDirectory $dataDir
$trigger = New-ScheduledTaskTrigger -AtStartup
$taskSettings = New-ScheduledTaskSettingsSet -RestartCount 9999 -RestartInterval (New-TimeSpan -Minutes 1) -ExecutionTimeLimit ([TimeSpan]::Zero) -StartWhenAvailable -DontStopIfGoingOnBatteries -AllowStartIfOnBatteries
$principal = New-ScheduledTaskPrincipal -UserId 'SYSTEM' -LogonType ServiceAccount -RunLevel Highest
Register-ScheduledTask -TaskName 'azure-spot-restarter-agent' -Action $action -Trigger $trigger -Settings $taskSettings -Principal $principal -Force | Out-Null
Start-ScheduledTask -TaskName 'azure-spot-restarter-agent'
Write-Host 'Installed: scheduled task azure-spot-restarter-agent (starts at boot, restarts on failure).'
