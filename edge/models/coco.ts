// The 80 COCO classes in the order detectors trained on COCO number them (0 = person), and the
// default map onto the classes the analyses use: people, and road vehicles as "vehicle".
import type { ObjectClass } from '../types.ts';

export const COCO_LABELS = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'mouse', 'remote', 'keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

/** COCO class id (as a string, the way JSON keys are) → ObjectClass; classes not listed are dropped */
export const COCO_CLASS_MAP: Readonly<Record<string, ObjectClass>> = Object.freeze({
  [COCO_LABELS.indexOf('person')]: 'person',
  [COCO_LABELS.indexOf('car')]: 'vehicle',
  [COCO_LABELS.indexOf('bus')]: 'vehicle',
  [COCO_LABELS.indexOf('truck')]: 'vehicle',
});
