// Tests read many JSON bodies whose shape each assertion spells out; typing
// Response.json() as `any` here keeps them readable. Test code only.
interface Response {
  json(): Promise<any>;
}
