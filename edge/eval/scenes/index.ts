// Every clip of the evaluation set, in build order.
import { BELT_CLIPS } from './belt.ts';
import type { ClipSpec } from './clip.ts';
import { DISPATCH_ROOM_CLIPS } from './dispatchRoom.ts';
import { ELEVATED_PERSONS_CLIPS } from './elevatedPersons.ts';
import { GATE_TRUCKS_CLIPS } from './gateTrucks.ts';
import { PERSONS_CLIPS } from './persons.ts';
import { TAMPER_CLIPS } from './tamper.ts';
import { TRUCKS_CLIPS } from './trucks.ts';

export const ALL_CLIPS: readonly ClipSpec[] = [...PERSONS_CLIPS, ...ELEVATED_PERSONS_CLIPS, ...TRUCKS_CLIPS, ...GATE_TRUCKS_CLIPS, ...BELT_CLIPS, ...DISPATCH_ROOM_CLIPS, ...TAMPER_CLIPS];
