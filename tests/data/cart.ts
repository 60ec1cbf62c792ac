export interface Item {
  name: string;
  price: number;
  quantity: number;
}

export class Cart {
  private items: Item[] = [];

  add(item: Item): void {
    this.items.push(item);
  }

  count(): number {
    return this.items.reduce((n, item) => n + item.quantity, 0);
  }

  total(): number {
    <CURSOR>
  }
}
