/**
 * `true` when A and B are the same union, else `false`: where a list in one place is checked against another's at
 * compile time (a core's detail-types against its rule in the topology), assigning `true` fails on any difference.
 */
export type SameSet<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
