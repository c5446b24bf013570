import { array, type Infer, object, string } from '../../config/schema-node.js';

const cidrs = (what: string) =>
  array(string({ maxLength: 64 }), {
    description: `${what}: IPv4 or IPv6 addresses or CIDR ranges (10.0.0.0/8, 2001:db8::/32); IPv4-mapped IPv6 is matched as IPv4.`,
  });

/** The same shape on a route (`ip:`) and at the top level (`ip:`, every request). */
export const ipSchema = object(
  {
    allow: cidrs('Only these client addresses pass (when set, anything else is denied)'),
    deny: cidrs('These client addresses are denied, even when allow lists them'),
  },
  {
    additionalProperties: false,
    description: 'Allow or deny by client address (after trusted_proxies): 403 SLUICE_ERR_IP_DENIED. See docs/network-policy.md.',
  },
);

export type IpConfig = Infer<typeof ipSchema>;
