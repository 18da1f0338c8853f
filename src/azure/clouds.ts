/** Azure clouds: where Resource Manager and Entra ID live in each. */
export interface Cloud {
  resourceManager: string;
  authorityHost: string;
}

export const CLOUDS = {
  azurecloud: {
    resourceManager: 'https://management.azure.com',
    authorityHost: 'https://login.microsoftonline.com'
  },
  azureusgovernment: {
    resourceManager: 'https://management.usgovcloudapi.net',
    authorityHost: 'https://login.microsoftonline.us'
  },
  azurechinacloud: {
    resourceManager: 'https://management.chinacloudapi.cn',
    authorityHost: 'https://login.chinacloudapi.cn'
  }
} as const satisfies Record<string, Cloud>;

export type CloudName = keyof typeof CLOUDS;
export const CLOUD_NAMES = Object.keys(CLOUDS) as CloudName[];

/**
 * What a cloud does not offer that this action is for. Microsoft Learn, "Use Azure Spot Virtual
 * Machines": "Azure Spot Virtual Machines can be deployed to any region, except Microsoft Azure
 * operated by 21Vianet" (the same sentence is on the scale-set page).
 */
export function spotNotOffered(cloud: CloudName): string | undefined {
  return cloud === 'azurechinacloud'
    ? 'environment is azurechinacloud: Azure Spot Virtual Machines are not offered in Azure operated by 21Vianet ("Use Azure Spot Virtual Machines"), so this run will find no Spot VM to restart there.'
    : undefined;
}

/** The OAuth scope of a Resource Manager endpoint: its origin plus `/.default`. */
export function armScope(resourceManager: string): string {
  return `${new URL(resourceManager).origin}/.default`;
}
