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

/** The OAuth scope of a Resource Manager endpoint: its origin plus `/.default`. */
export function armScope(resourceManager: string): string {
  return `${new URL(resourceManager).origin}/.default`;
}
