// Environments: the list, their base URLs and networks, activation (not_provisioned →
// provisioning → active | error).
import type { Check } from '../../check.ts';

export const environmentChecks: Check[] = [];
