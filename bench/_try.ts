import { measureStreaming } from './streaming';
measureStreaming().then((r) => console.log(JSON.stringify(r, null, 1)));
