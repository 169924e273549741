// The real people and the real vehicle the scenes paste, cut from the darknet sample photos.
// Boxes were read off the photos (pixels of the original JPEGs), tight around the object so the
// pasted box is the object's box.
import type { DarknetPhoto } from '../darknetPhotos.ts';
import { crop, flipHorizontal, toSprite, type Rect, type Sprite } from '../compose.ts';
import type { Photos } from './clip.ts';

export interface CropSpec {
  photo: DarknetPhoto;
  rect: Rect;
  /** feathered edge, in pixels of the photo */
  feather: number;
}

export const CROPS = {
  /** person.jpg (640×424): the woman in the blue jacket, hat to boots; the dog's head ends just left of x 195 */
  blueJacket: { photo: 'person.jpg', rect: { x: 195, y: 97, width: 84, height: 282 }, feather: 5 },
  /** kite.jpg (1352×900): the walker in the light blue hoodie, seen from behind, hood to feet */
  lightHoodie: { photo: 'kite.jpg', rect: { x: 108, y: 608, width: 62, height: 160 }, feather: 4 },
  /** kite.jpg: the child in the navy hoodie, bent forward, hood to feet */
  navyHoodie: { photo: 'kite.jpg', rect: { x: 212, y: 693, width: 64, height: 168 }, feather: 4 },
  /** dog.jpg (768×576): the white pickup at the top right, rear bumper to front bumper, roof to tyres */
  pickup: { photo: 'dog.jpg', rect: { x: 464, y: 72, width: 232, height: 102 }, feather: 6 },
} as const satisfies Record<string, CropSpec>;

export type CropName = keyof typeof CROPS;
export const PERSON_CROPS: readonly CropName[] = ['blueJacket', 'lightHoodie', 'navyHoodie'];

/** The crop as a sprite with feathered edges; `mirrored` flips it (a walker or truck going the other way). */
export async function loadSprite(photos: Photos, name: CropName, mirrored = false): Promise<Sprite> {
  const spec = CROPS[name];
  const sprite = toSprite(crop(await photos.get(spec.photo), spec.rect), spec.feather);
  return mirrored ? flipHorizontal(sprite) : sprite;
}
