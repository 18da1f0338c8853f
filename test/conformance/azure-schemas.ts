/**
 * JSON Schemas of the Azure responses the emulator produces, transcribed from Microsoft's
 * published REST API descriptions (Azure/azure-rest-api-specs):
 * - Resource Graph: specification/resourcegraph/resource-manager/Microsoft.ResourceGraph/stable/
 *   2024-04-01/resourcegraph.json — definitions QueryResponse, Table, Column, ColumnDataType,
 *   ErrorResponse, Error, ErrorDetails (and examples/ResourcesFirstPageQuery.json).
 * - Compute: specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/2024-11-01/
 *   virtualMachine.json (VirtualMachine, VirtualMachineInstanceView, BillingProfile, priority and
 *   evictionPolicy enums) and computeRPCommon.json (InstanceViewStatus: level Info|Warning|Error).
 * - Long-running operation status (Azure-AsyncOperation): the ARM RPC's operation resource —
 *   status Succeeded|Failed|Canceled or in progress, startTime/endTime, error {code, message}.
 * - ARM errors: specification/common-types/resource-management/v5/types.json ErrorResponse/ErrorDetail.
 * - Effective permissions: specification/authorization/resource-manager/Microsoft.Authorization/
 *   stable/2022-04-01/authorization-RoleDefinitionsCalls.json — Permissions_ListForResourceGroup
 *   (`/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}/providers/
 *   Microsoft.Authorization/permissions`, x-ms-pageable nextLinkName `nextLink`), definitions
 *   PermissionGetResult and Permission. The operation is documented at resource-group and
 *   resource scope only.
 * - Compute's own error: specification/compute/resource-manager/Microsoft.Compute/common-types/v1/
 *   common.json ApiError (`details: ApiErrorBase[]`, `innererror`).
 */
const errorDetail = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    target: { type: 'string' },
    details: { type: 'array', items: { $ref: '#/$defs/errorDetail' } },
    additionalInfo: { type: 'array' }
  }
};

export const armErrorResponse = {
  $defs: { errorDetail },
  type: 'object',
  required: ['error'],
  properties: { error: { ...errorDetail, required: ['code', 'message'] } }
};

export const argErrorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: {
          type: 'array',
          items: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'string' }, message: { type: 'string' } }
          }
        }
      }
    }
  }
};

export const argQueryResponse = {
  type: 'object',
  required: ['totalRecords', 'count', 'resultTruncated', 'data'],
  properties: {
    totalRecords: { type: 'integer' },
    count: { type: 'integer' },
    resultTruncated: { type: 'string', enum: ['true', 'false'] },
    $skipToken: { type: 'string' },
    data: {
      anyOf: [
        { type: 'array', items: { type: 'object' } },
        {
          type: 'object',
          required: ['columns', 'rows'],
          properties: {
            columns: {
              type: 'array',
              items: {
                type: 'object',
                required: ['name', 'type'],
                properties: {
                  name: { type: 'string' },
                  type: { enum: ['string', 'integer', 'number', 'boolean', 'object', 'datetime'] }
                }
              }
            },
            rows: { type: 'array', items: { type: 'array' } }
          }
        }
      ]
    },
    facets: { type: 'array' }
  }
};

const instanceViewStatus = {
  type: 'object',
  properties: {
    code: { type: 'string' },
    level: { enum: ['Info', 'Warning', 'Error'] },
    displayStatus: { type: 'string' },
    message: { type: 'string' },
    time: { type: 'string', format: 'date-time' }
  }
};

/**
 * The guest side of an instance view (virtualMachine.json / computeRPCommon.json):
 * VirtualMachineAgentInstanceView {vmAgentVersion, extensionHandlers, statuses},
 * VirtualMachineHealthStatus {status: InstanceViewStatus} ("The health status for the VM", read-only),
 * VirtualMachineExtensionInstanceView {name, type, typeHandlerVersion, substatuses, statuses}.
 */
const guestSide = {
  vmAgent: {
    type: 'object',
    properties: {
      vmAgentVersion: { type: 'string' },
      extensionHandlers: {
        type: ['array', 'null'],
        items: {
          type: 'object',
          properties: {
            type: { type: 'string' },
            typeHandlerVersion: { type: 'string' },
            status: instanceViewStatus
          }
        }
      },
      statuses: { type: 'array', items: instanceViewStatus }
    }
  },
  vmHealth: { type: 'object', properties: { status: instanceViewStatus } },
  extensions: {
    type: 'array',
    items: {
      type: 'object',
      properties: {
        name: { type: 'string' },
        type: { type: 'string' },
        typeHandlerVersion: { type: 'string' },
        substatuses: { type: 'array', items: instanceViewStatus },
        statuses: { type: 'array', items: instanceViewStatus }
      }
    }
  }
};

/**
 * What the instance view of a machine says, a VM's (VirtualMachineInstanceView) or a scale-set
 * instance's (VirtualMachineScaleSetVMInstanceView): its OS, its guest side and its statuses.
 */
const machineInstanceView = {
  computerName: { type: 'string' },
  osName: { type: 'string' },
  osVersion: { type: 'string' },
  ...guestSide,
  statuses: { type: 'array', items: instanceViewStatus }
};

export const vmInstanceView = { type: 'object', properties: machineInstanceView };

/** A tracked resource's envelope (common-types Resource: id, name, type, location, tags) and Compute's zones. */
const trackedResource = {
  id: { type: 'string' },
  name: { type: 'string' },
  location: { type: 'string' },
  tags: { type: 'object', additionalProperties: { type: 'string' } },
  zones: { type: 'array', items: { type: 'string' } }
};

/** What a VM and a scale-set instance both hold in `properties`: the machine itself. */
const machineProperties = {
  vmId: { type: 'string' },
  hardwareProfile: { type: 'object', properties: { vmSize: { type: 'string' } } },
  provisioningState: { type: 'string' },
  timeCreated: { type: 'string', format: 'date-time' }
};

export const virtualMachine = {
  type: 'object',
  required: ['location'],
  properties: {
    ...trackedResource,
    type: { const: 'Microsoft.Compute/virtualMachines' },
    properties: {
      type: 'object',
      properties: {
        ...machineProperties,
        priority: { enum: ['Regular', 'Low', 'Spot'] },
        evictionPolicy: { enum: ['Deallocate', 'Delete'] },
        billingProfile: { type: 'object', properties: { maxPrice: { type: 'number' } } }
      }
    }
  }
};

export const operationStatus = {
  type: 'object',
  required: ['status'],
  properties: {
    name: { type: 'string' },
    status: { type: 'string' },
    startTime: { type: 'string', format: 'date-time' },
    endTime: { type: 'string', format: 'date-time' },
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } }
    }
  }
};

const stringArray = { type: 'array', items: { type: 'string' } };

export const permissionGetResult = {
  type: 'object',
  properties: {
    value: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          actions: stringArray,
          notActions: stringArray,
          dataActions: stringArray,
          notDataActions: stringArray
        }
      }
    },
    nextLink: { type: 'string' }
  }
};

/** Compute's ApiError (common-types/v1/common.json): what a failed start operation's `error` holds. */
export const computeApiError = {
  type: 'object',
  required: ['code', 'message'],
  properties: {
    code: { type: 'string' },
    message: { type: 'string' },
    target: { type: 'string' },
    details: {
      type: 'array',
      items: {
        type: 'object',
        properties: { code: { type: 'string' }, target: { type: 'string' }, message: { type: 'string' } }
      }
    },
    innererror: { type: 'object' }
  }
};

/**
 * Scale sets, from specification/compute/resource-manager/Microsoft.Compute/ComputeRP/stable/
 * 2024-11-01/virtualMachineScaleSet.json (VirtualMachineScaleSet, Sku, VirtualMachineScaleSetProperties
 * with orchestrationMode Uniform|Flexible, SpotRestorePolicy {enabled, restoreTimeout},
 * VirtualMachineScaleSetVMProfile priority/evictionPolicy/billingProfile) and
 * virtualMachineScaleSetVM.json (VirtualMachineScaleSetVM: readOnly instanceId and sku;
 * VirtualMachineScaleSetVMInstanceView: platformUpdateDomain, platformFaultDomain, statuses).
 */
const sku = {
  type: 'object',
  properties: { name: { type: 'string' }, tier: { type: 'string' }, capacity: { type: 'integer' } }
};

export const virtualMachineScaleSet = {
  type: 'object',
  required: ['location'],
  properties: {
    ...trackedResource,
    type: { const: 'Microsoft.Compute/virtualMachineScaleSets' },
    sku,
    properties: {
      type: 'object',
      properties: {
        orchestrationMode: { enum: ['Uniform', 'Flexible'] },
        uniqueId: { type: 'string' },
        provisioningState: { type: 'string' },
        timeCreated: { type: 'string', format: 'date-time' },
        platformFaultDomainCount: { type: 'integer' },
        singlePlacementGroup: { type: 'boolean' },
        overprovision: { type: 'boolean' },
        upgradePolicy: {
          type: 'object',
          properties: { mode: { enum: ['Automatic', 'Manual', 'Rolling'] } }
        },
        virtualMachineProfile: {
          type: 'object',
          properties: {
            priority: { enum: ['Regular', 'Low', 'Spot'] },
            evictionPolicy: { enum: ['Deallocate', 'Delete'] },
            billingProfile: { type: 'object', properties: { maxPrice: { type: 'number' } } }
          }
        },
        spotRestorePolicy: {
          type: 'object',
          properties: { enabled: { type: 'boolean' }, restoreTimeout: { type: 'string' } }
        }
      }
    }
  }
};

export const virtualMachineScaleSetVM = {
  type: 'object',
  required: ['location'],
  properties: {
    ...trackedResource,
    type: { type: 'string' },
    instanceId: { type: 'string' },
    sku,
    properties: {
      type: 'object',
      properties: {
        latestModelApplied: { type: 'boolean' },
        modelDefinitionApplied: { type: 'string' },
        ...machineProperties
      }
    }
  }
};

export const virtualMachineScaleSetVMInstanceView = {
  type: 'object',
  properties: {
    platformUpdateDomain: { type: 'integer' },
    platformFaultDomain: { type: 'integer' },
    ...machineInstanceView
  }
};

/**
 * `GET …/virtualMachines/{vm}/vmSizes` (VirtualMachines_ListAvailableSizes): VirtualMachineSizeListResult
 * of VirtualMachineSize (name, numberOfCores, osDiskSizeInMB, resourceDiskSizeInMB, memoryInMB,
 * maxDataDiskCount) — virtualMachine.json / computeRPCommon.json.
 */
export const vmSizeList = {
  type: 'object',
  required: ['value'],
  properties: {
    value: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          numberOfCores: { type: 'integer' },
          osDiskSizeInMB: { type: 'integer' },
          resourceDiskSizeInMB: { type: 'integer' },
          memoryInMB: { type: 'integer' },
          maxDataDiskCount: { type: 'integer' }
        }
      }
    }
  }
};

/**
 * `GET /subscriptions/{id}/providers/Microsoft.Compute/skus` (ResourceSkus_List):
 * specification/compute/resource-manager/Microsoft.Compute/Skus/stable/2021-07-01/skus.json —
 * ResourceSkusResult {value (required), nextLink}, ResourceSku, ResourceSkuLocationInfo,
 * ResourceSkuCapabilities, ResourceSkuRestrictions (type Location|Zone, values,
 * restrictionInfo {locations, zones}, reasonCode QuotaId|NotAvailableForSubscription).
 */
export const resourceSkusResult = {
  type: 'object',
  required: ['value'],
  properties: {
    nextLink: { type: 'string' },
    value: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          resourceType: { type: 'string' },
          name: { type: 'string' },
          tier: { type: 'string' },
          size: { type: 'string' },
          family: { type: 'string' },
          kind: { type: 'string' },
          locations: { type: 'array', items: { type: 'string' } },
          locationInfo: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                location: { type: 'string' },
                zones: { type: 'array', items: { type: 'string' } },
                zoneDetails: { type: 'array' }
              }
            }
          },
          capabilities: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: { name: { type: 'string' }, value: { type: 'string' } }
            }
          },
          restrictions: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              properties: {
                type: { enum: ['Location', 'Zone'] },
                values: { type: 'array', items: { type: 'string' } },
                restrictionInfo: {
                  type: 'object',
                  additionalProperties: false,
                  properties: {
                    locations: { type: 'array', items: { type: 'string' } },
                    zones: { type: 'array', items: { type: 'string' } }
                  }
                },
                reasonCode: { enum: ['QuotaId', 'NotAvailableForSubscription'] }
              }
            }
          }
        }
      }
    }
  }
};

/**
 * SpotResources rows as Microsoft Learn's sample queries read them ("Use Azure Spot Virtual
 * Machines", Azure Resource Graph): `sku.name`, `location`, `properties.osType`,
 * `properties.spotPrices[].priceUSD` (the first the latest) and `properties.evictionRate`.
 */
export const spotResourceRow = {
  type: 'object',
  required: ['id', 'type', 'location', 'sku', 'properties'],
  properties: {
    type: {
      enum: [
        'microsoft.compute/skuspotpricehistory/ostype/location',
        'microsoft.compute/skuspotevictionrate/location'
      ]
    },
    sku: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
    properties: {
      type: 'object',
      properties: {
        osType: { enum: ['Linux', 'Windows'] },
        evictionRate: { type: 'string', pattern: '^\\d+(-\\d+|\\+)$' },
        spotPrices: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            required: ['effectiveDate', 'priceUSD'],
            properties: {
              effectiveDate: { type: 'string', format: 'date-time' },
              priceUSD: { type: 'number' }
            }
          }
        }
      }
    }
  }
};
