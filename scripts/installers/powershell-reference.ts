/**
 * What agent/install/windows/install.ps1 may use: each cmdlet with the parameters it may name,
 * and each .NET type, checked in Microsoft's reference for Windows PowerShell 5.1 (the shell every
 * Windows Server has) and for PowerShell 7 (the 7.4, 7.5 and 7.6 pages). `npm run lint:installers`
 * refuses anything that is not listed here, so a new cmdlet, parameter or type is read up on both
 * pages before it is used. Positional arguments are taken as the pages number them.
 */

const POWERSHELL = 'https://learn.microsoft.com/powershell/module';

interface Cmdlet {
  /** The module whose reference page documents it. */
  module: string;
  /** Parameters the script may name, all present under both 5.1 and 7. */
  parameters: string[];
}

export const CMDLETS: Record<string, Cmdlet> = {
  'Copy-Item': {
    module: 'Microsoft.PowerShell.Management',
    parameters: ['LiteralPath', 'Destination', 'Force']
  },
  'Get-Command': { module: 'Microsoft.PowerShell.Core', parameters: ['Name', 'CommandType'] },
  // -Encoding UTF8 is an accepted value in both: 5.1 lists UTF8, 7 lists UTF8 (and UTF8NoBOM).
  'Get-Content': {
    module: 'Microsoft.PowerShell.Management',
    parameters: ['LiteralPath', 'Raw', 'Encoding']
  },
  'Join-Path': { module: 'Microsoft.PowerShell.Management', parameters: ['Path', 'ChildPath'] },
  'New-Item': { module: 'Microsoft.PowerShell.Management', parameters: ['ItemType', 'Force', 'Path'] },
  'New-Object': { module: 'Microsoft.PowerShell.Utility', parameters: ['TypeName', 'ArgumentList'] },
  'Out-Null': { module: 'Microsoft.PowerShell.Core', parameters: ['InputObject'] },
  'Select-Object': { module: 'Microsoft.PowerShell.Utility', parameters: ['First'] },
  'Set-Acl': { module: 'Microsoft.PowerShell.Security', parameters: ['LiteralPath', 'AclObject'] },
  'Start-Process': {
    module: 'Microsoft.PowerShell.Management',
    parameters: ['FilePath', 'ArgumentList', 'WorkingDirectory', 'NoNewWindow', 'Wait', 'PassThru']
  },
  'Test-Path': { module: 'Microsoft.PowerShell.Management', parameters: ['LiteralPath'] },
  'Write-Host': { module: 'Microsoft.PowerShell.Utility', parameters: ['Object'] },
  // ScheduledTasks is Windows' own module, the same under both shells: "Natively Compatible" with
  // PowerShell 7 on Windows Server 1809+ ("PowerShell 7 module compatibility in Windows Server
  // 2022"); under 5.1 on every Windows Server with Register-ScheduledTask (2012 and later).
  'Get-ScheduledTask': { module: 'ScheduledTasks', parameters: ['TaskName'] },
  'Register-ScheduledTask': { module: 'ScheduledTasks', parameters: ['TaskName', 'Xml', 'Force'] },
  'Start-ScheduledTask': { module: 'ScheduledTasks', parameters: ['TaskName'] },
  'Stop-ScheduledTask': { module: 'ScheduledTasks', parameters: ['TaskName'] }
};

/** about_CommonParameters: every cmdlet (and every [CmdletBinding()] script) takes these. */
export const COMMON_PARAMETERS = [
  'Debug',
  'ErrorAction',
  'ErrorVariable',
  'InformationAction',
  'InformationVariable',
  'OutBuffer',
  'OutVariable',
  'PipelineVariable',
  'Verbose',
  'WarningAction',
  'WarningVariable'
];

/** The pages a cmdlet was checked on. */
export function cmdletPages(name: string): string[] {
  const cmdlet = CMDLETS[name];
  if (!cmdlet) return [];
  const page = `${POWERSHELL}/${cmdlet.module.toLowerCase()}/${name.toLowerCase()}`;
  if (cmdlet.module === 'ScheduledTasks') return [`${page}?view=windowsserver2022-ps`];
  return ['5.1', '7.4', '7.5', '7.6'].map(v => `${page}?view=powershell-${v}`);
}

const DOTNET = 'https://learn.microsoft.com/dotnet/api';

/**
 * Types by the name the script writes, with the page that documents them for both .NET Framework
 * 4.x (Windows PowerShell 5.1) and .NET (PowerShell 7).
 */
export const TYPES: Record<string, string> = {
  // Type accelerators and attributes of the language itself, in 5.1 and 7 alike.
  string: `${POWERSHELL}/microsoft.powershell.core/about/about_type_accelerators`,
  'string[]': `${POWERSHELL}/microsoft.powershell.core/about/about_type_accelerators`,
  switch: `${POWERSHELL}/microsoft.powershell.core/about/about_type_accelerators`,
  version: `${POWERSHELL}/microsoft.powershell.core/about/about_type_accelerators`,
  xml: `${POWERSHELL}/microsoft.powershell.core/about/about_type_accelerators`,
  ordered: `${POWERSHELL}/microsoft.powershell.core/about/about_hash_tables`,
  CmdletBinding: `${POWERSHELL}/microsoft.powershell.core/about/about_functions_cmdletbindingattribute`,
  Parameter: `${POWERSHELL}/microsoft.powershell.core/about/about_functions_advanced_parameters`,
  ValidatePattern: `${POWERSHELL}/microsoft.powershell.core/about/about_functions_advanced_parameters`,
  // .NET types.
  'System.IO.File': `${DOTNET}/system.io.file`,
  'System.Security.SecurityElement': `${DOTNET}/system.security.securityelement`,
  'System.Security.AccessControl.DirectorySecurity': `${DOTNET}/system.security.accesscontrol.directorysecurity`,
  'System.Security.AccessControl.FileSystemAccessRule': `${DOTNET}/system.security.accesscontrol.filesystemaccessrule`,
  'System.Security.Principal.SecurityIdentifier': `${DOTNET}/system.security.principal.securityidentifier`,
  'System.Security.Principal.WindowsBuiltInRole': `${DOTNET}/system.security.principal.windowsbuiltinrole`,
  'System.Security.Principal.WindowsIdentity': `${DOTNET}/system.security.principal.windowsidentity`,
  'System.Security.Principal.WindowsPrincipal': `${DOTNET}/system.security.principal.windowsprincipal`
};
