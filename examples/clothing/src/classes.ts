/** The seed's 10 clothing classes, in the order of the model's logits (index i of `dense_7` is `CLASSES[i]`). */
export const CLASSES = [
  'dress',
  'hat',
  'longsleeve',
  'outwear',
  'pants',
  'shirt',
  'shoes',
  'shorts',
  'skirt',
  't-shirt',
] as const;

/** One of the clothing class names. */
export type ClothingClass = (typeof CLASSES)[number];
