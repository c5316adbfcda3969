// The material of the generated conversations. Every list is split in two by index (even:
// tuning, odd: held-out), so the held-out seeds ask about topics, follow-ups, bridges and
// speakers the tuning seeds never showed. `{A}` is the speaker the topic belongs to, `{B}` the
// other one, `{when}` a relative time ("yesterday").

/** One part of a speaker's life, giving a question of each kind but multi-hop. */
export interface Topic {
  /** A statement of the fact, embedded in a long turn (single-hop evidence). */
  fact: string;
  factQuestion: string;
  /** Something the other speaker suggests; the owner's short agreement after it is the evidence. */
  suggestion: string;
  suggestionQuestion: string;
  /** Something the owner did, said with a relative time: the question needs the session's date. */
  event: string;
  eventQuestion: string;
  /** A preference hinted with few of the question's words (open-domain: needs inference). */
  hint: string;
  hintQuestion: string;
  /** Words of this topic that distractor turns reuse in other contexts. */
  words: string[];
}

export const TOPICS: Topic[] = [
  {
    fact: 'I finally adopted a rescue dog, a little beagle called Biscuit.',
    factQuestion: 'What kind of dog did {A} adopt?',
    suggestion: 'You should take Biscuit to the agility classes at the park, dogs love them.',
    suggestionQuestion: 'What activity did {B} suggest for {A} and the dog?',
    event: 'I volunteered at the animal shelter {when}, walked about a dozen dogs.',
    eventQuestion: 'When did {A} volunteer at the animal shelter?',
    hint: 'Honestly I could spend the whole day around animals, they calm me down more than anything.',
    hintQuestion: 'Would {A} be more likely to enjoy a farm stay or a city break?',
    words: ['dog', 'shelter', 'park', 'agility', 'rescue'],
  },
  {
    fact: 'I signed up for pottery lessons on Thursday evenings at the community studio.',
    factQuestion: 'What lessons does {A} take on Thursday evenings?',
    suggestion: 'Why not sell some of your bowls at the Sunday craft market?',
    suggestionQuestion: 'Where did {A} decide to sell the bowls?',
    event: 'I had my first piece fired in the kiln {when}, a wonky blue vase.',
    eventQuestion: 'When did {A} get a first piece fired in the kiln?',
    hint: 'There is something about making things with my hands that screens never give me.',
    hintQuestion: 'Would {A} prefer a woodworking workshop or a video game tournament?',
    words: ['lessons', 'bowls', 'market', 'kiln', 'vase'],
  },
  {
    fact: 'I started training for a half marathon, I run four mornings a week now.',
    factQuestion: 'What race is {A} training for?',
    suggestion: 'You should join the running club that meets by the river on Saturdays.',
    suggestionQuestion: 'Which group did {B} recommend {A} join?',
    event: 'I ran my first 15 kilometres without stopping {when}, my legs are dead.',
    eventQuestion: 'When did {A} first run 15 kilometres without stopping?',
    hint: 'I feel restless if I sit still for too long, I need to move every day.',
    hintQuestion: 'Is {A} more of an active person or a homebody?',
    words: ['race', 'running club', 'marathon', 'kilometres', 'training'],
  },
  {
    fact: 'My grandmother left me her old piano, so I am learning to play again.',
    factQuestion: 'Which instrument did {A} inherit from a grandmother?',
    suggestion: "You could record yourself playing and send it to your grandma's sisters.",
    suggestionQuestion: 'What did {A} agree to send to the great-aunts?',
    event: 'I played a whole Chopin nocturne for my family {when} and nobody left the room.',
    eventQuestion: 'When did {A} play a Chopin nocturne for the family?',
    hint: 'Old things with a story matter more to me than anything new from a shop.',
    hintQuestion: 'Would {A} rather buy furniture from an antique dealer or a big chain store?',
    words: ['piano', 'grandmother', 'instrument', 'Chopin', 'aunts'],
  },
  {
    fact: 'We are planning a road trip along the coast of Portugal this summer.',
    factQuestion: 'Where is {A} planning a road trip?',
    suggestion: 'Rent a camper van instead of hotels, you can stop wherever you like.',
    suggestionQuestion: 'What did {A} agree to rent for the trip?',
    event: 'I booked the ferry tickets for the trip {when}, finally it feels real.',
    eventQuestion: 'When did {A} book the ferry tickets?',
    hint: 'I get itchy feet after a few months at home, I need to see somewhere new.',
    hintQuestion: 'Would {A} likely accept a job that involves a lot of travel?',
    words: ['road trip', 'ferry', 'tickets', 'camper van', 'travel'],
  },
  {
    fact: 'I joined a community garden and I have a plot with tomatoes and beans.',
    factQuestion: 'What does {A} grow in the community garden plot?',
    suggestion: 'Plant marigolds between the tomatoes, they keep the pests away.',
    suggestionQuestion: 'Which flowers did {A} agree to plant between the vegetables?',
    event: 'I harvested my first basket of beans {when}, we ate them the same night.',
    eventQuestion: 'When did {A} harvest the first basket of beans?',
    hint: 'Dirt under my fingernails is my idea of a good weekend.',
    hintQuestion: 'Would {A} enjoy a weekend spent landscaping a backyard?',
    words: ['garden', 'tomatoes', 'flowers', 'beans', 'vegetables'],
  },
  {
    fact: "I am taking an evening course in Spanish because my partner's family is from Valencia.",
    factQuestion: 'Which language is {A} studying in an evening course?',
    suggestion: 'Watch Spanish series with subtitles, it helped me a lot with listening.',
    suggestionQuestion: 'What did {A} agree to watch to practise listening?',
    event: 'I passed my B1 language exam {when}, I still cannot believe it.',
    eventQuestion: 'When did {A} pass the B1 language exam?',
    hint: 'Talking to people in their own words makes me feel closer to them than anything.',
    hintQuestion: 'Would {A} be interested in a cultural exchange programme?',
    words: ['language', 'course', 'series', 'exam', 'subtitles'],
  },
  {
    fact: 'I started volunteering at the youth centre, I mentor two teenagers on Tuesdays.',
    factQuestion: 'Where does {A} volunteer on Tuesdays?',
    suggestion: 'Take the kids to the science museum, it is free on the first Friday of the month.',
    suggestionQuestion: 'Where did {A} decide to take the teenagers?',
    event: 'One of my mentees got into college {when}, I cried in the car.',
    eventQuestion: "When did {A}'s mentee get into college?",
    hint: 'Seeing someone younger find their way is the best feeling I know.',
    hintQuestion: 'Would {A} consider becoming a teacher?',
    words: ['teenagers', 'youth centre', 'museum', 'college', 'mentor'],
  },
  {
    fact: 'I bought a secondhand camera and I am learning film photography.',
    factQuestion: 'What kind of photography is {A} learning?',
    suggestion: 'Develop the film yourself, the darkroom at the library rents by the hour.',
    suggestionQuestion: 'Where did {A} agree to develop the film?',
    event: 'I shot my first full roll at the harbour {when}, three photos came out sharp.',
    eventQuestion: 'When did {A} shoot the first full roll of film?',
    hint: 'I love slowing down and waiting for the right light, there is no rush in it.',
    hintQuestion: 'Would {A} enjoy a slow birdwatching hike?',
    words: ['photography', 'film', 'darkroom', 'harbour', 'camera'],
  },
  {
    fact: 'We are renovating the kitchen ourselves, new cabinets and a tiled floor.',
    factQuestion: 'Which room is {A} renovating?',
    suggestion: 'Paint the cabinets sage green, it would look lovely with wood counters.',
    suggestionQuestion: 'What colour did {A} decide to paint the cabinets?',
    event: 'We tore out the old floor tiles {when}, the dust was everywhere.',
    eventQuestion: 'When did {A} tear out the old floor tiles?',
    hint: 'I would always rather fix something than pay someone to do it.',
    hintQuestion: 'Would {A} hire a handyman for a leaking tap?',
    words: ['kitchen', 'paint', 'cabinets', 'floor tiles', 'renovating'],
  },
  {
    fact: 'I have been baking sourdough, my starter is called Doughlene.',
    factQuestion: 'What kind of bread has {A} been baking?',
    suggestion: 'Try adding olives and rosemary to the next loaf.',
    suggestionQuestion: 'What did {A} agree to add to the next loaf?',
    event: "I brought a loaf to the neighbours' barbecue {when} and it vanished.",
    eventQuestion: "When did {A} bring a loaf to the neighbours' barbecue?",
    hint: 'Feeding people is how I show I care about them.',
    hintQuestion: 'Would {A} enjoy hosting a dinner party?',
    words: ['baking', 'bread', 'loaf', 'barbecue', 'olives'],
  },
  {
    fact: 'I took up rock climbing at the indoor gym near the station.',
    factQuestion: 'What sport did {A} take up at the gym?',
    suggestion: 'Go climbing outdoors at the quarry, the routes there are beginner friendly.',
    suggestionQuestion: 'Where did {B} suggest {A} climb outdoors?',
    event: 'I finished my first grade six route {when}, my forearms are still burning.',
    eventQuestion: 'When did {A} finish a first grade six route?',
    hint: 'Heights do not scare me at all, they make me feel alive.',
    hintQuestion: 'Would {A} try skydiving?',
    words: ['gym', 'climbing', 'quarry', 'routes', 'sport'],
  },
  {
    fact: 'I started writing a fantasy novel, I am about forty pages in.',
    factQuestion: 'What genre of novel is {A} writing?',
    suggestion: "Join the writers' circle at the bookshop, they give honest feedback.",
    suggestionQuestion: 'Which group did {A} decide to join for feedback?',
    event: 'I read the first chapter out loud to my sister {when}, she loved the dragon.',
    eventQuestion: 'When did {A} read the first chapter to a sister?',
    hint: 'I have always lived half inside my own head, making up worlds.',
    hintQuestion: 'Would {A} enjoy a tabletop role-playing game?',
    words: ['novel', 'bookshop', 'chapter', 'writers', 'fantasy'],
  },
  {
    fact: 'I adopted two cats from the shelter, Miso and Tofu.',
    factQuestion: "What are the names of {A}'s cats?",
    suggestion: 'Get them a tall scratching tree, it saved my sofa.',
    suggestionQuestion: 'What did {A} agree to get for the cats?',
    event: 'Miso knocked the Christmas lights over {when} and hid under the bed.',
    eventQuestion: 'When did Miso knock the lights over?',
    hint: 'I am happiest curled up at home with a warm animal on my lap.',
    hintQuestion: 'Would {A} prefer a quiet night in or a club night?',
    words: ['cats', 'scratching tree', 'sofa', 'Christmas lights', 'names'],
  },
  {
    fact: 'I was promoted to team lead at the design agency last month.',
    factQuestion: 'What role was {A} promoted to?',
    suggestion: 'Do weekly one-to-ones with each person on the team, it builds trust fast.',
    suggestionQuestion: 'What kind of meetings did {A} agree to hold with the team?',
    event: "I gave my first presentation to the agency's biggest client {when}.",
    eventQuestion: "When did {A} present to the agency's biggest client?",
    hint: 'I like being the one people come to when things get messy.',
    hintQuestion: 'Would {A} be comfortable organising a big event?',
    words: ['team lead', 'meetings', 'client', 'agency', 'presentation'],
  },
  {
    fact: 'I joined a choir that sings at the cathedral every second Sunday.',
    factQuestion: "Where does {A}'s choir sing?",
    suggestion: 'Take a few private singing lessons to work on your breathing.',
    suggestionQuestion: 'What did {A} agree to take to improve the breathing?',
    event: 'We sang our first concert in front of a full audience {when}.',
    eventQuestion: "When did {A}'s choir sing a first concert?",
    hint: 'Music with other people gives me goosebumps every single time.',
    hintQuestion: 'Would {A} enjoy a music festival?',
    words: ['choir', 'singing lessons', 'cathedral', 'concert', 'breathing'],
  },
];

/** A question whose answer needs two turns said sessions apart (the second names what the first introduced). */
export interface Bridge {
  first: string;
  second: string;
  question: string;
}

/** `{P}` is a person the owner introduces in the first turn; `{city}` a place. */
export const BRIDGES: Bridge[] = [
  {
    first: 'My cousin {P} just moved to {city}, I miss having {P} around already.',
    second: 'Guess what, {P} opened a little bakery, the croissants are apparently amazing.',
    question: "What did {A}'s cousin who moved to {city} open?",
  },
  {
    first: 'My old roommate {P} got a job as a nurse in {city}.',
    second: '{P} called me, she is getting married in the spring!',
    question: "What news did {A}'s old roommate, the nurse in {city}, share?",
  },
  {
    first: 'My brother {P} is coming to stay with us from {city} for a while.',
    second: '{P} ended up fixing our whole fence before going home, what a guy.',
    question: "What did {A}'s brother from {city} fix during the stay?",
  },
  {
    first: 'My best friend from school, {P}, lives in {city} now.',
    second: '{P} sent me a box of homemade chilli sauce, my mouth is on fire.',
    question: "What did {A}'s school friend in {city} send?",
  },
  {
    first: 'My neighbour {P} is moving to {city} for work next month.',
    second: '{P} left us her lemon tree before the move, it is on our balcony now.',
    question: "What did {A}'s neighbour who moved to {city} leave behind?",
  },
  {
    first: 'My aunt {P} retired and moved back to {city}.',
    second: '{P} has started painting watercolours of the harbour every morning.',
    question: "What hobby did {A}'s aunt take up after retiring to {city}?",
  },
];

/** A shared interest: each speaker mentions it once, sessions apart. */
export interface Common {
  first: string;
  second: string;
  question: string;
}

export const COMMONS: Common[] = [
  {
    first: 'I have been doing jigsaw puzzles every night, a thousand pieces at a time.',
    second: 'Puzzles are my secret addiction, I just finished a map of the world.',
    question: 'What pastime do {A} and {B} both enjoy?',
  },
  {
    first: 'I have been listening to old jazz records on Sunday mornings.',
    second: 'Nothing beats a jazz record and a coffee, honestly.',
    question: 'Which kind of music do {A} and {B} have in common?',
  },
  {
    first: 'I got really into birdwatching, I saw a kingfisher at the lake.',
    second: 'I keep a notebook of every bird I spot, forty species so far.',
    question: 'What hobby do both {A} and {B} share?',
  },
  {
    first: 'Chess in the park on Saturdays has become my thing.',
    second: 'I play chess online every evening, I am finally above 1500.',
    question: 'Which game do {A} and {B} both play?',
  },
];

/** Workplaces for the fact that changes over time. */
export const WORKPLACES = [
  'the city library',
  'a bike repair shop',
  "the children's hospital",
  'a seed bank',
  'a bakery on Elm Street',
  'the port authority',
  'a recording studio',
  'the botanical garden',
];

/** Short agreements after a suggestion: the evidence turn whose meaning is the turn before it. */
export const AGREEMENTS = [
  "Yeah, good idea! I'll give it a try.",
  "Ooh, I love that, I'm doing it.",
  "You're right, I'll sort it out this week.",
  'Great shout, {B}, will do!',
  "That's perfect, let's go with that.",
  'Haha okay, you convinced me.',
  "Deal. I'll let you know how it goes.",
  "Why didn't I think of that? Yes!",
];

export const SPEAKERS = [
  'Caroline',
  'Melanie',
  'Jon',
  'Gina',
  'Audrey',
  'Andrew',
  'Deborah',
  'Jolene',
  'Evan',
  'Sam',
  'Calvin',
  'Dave',
  'Maria',
  'John',
  'Tim',
  'Nate',
];

export const PEOPLE = ['Tomas', 'Lena', 'Marco', 'Ines', 'Rafi', 'Greta', 'Hugo', 'Noor', 'Bram', 'Sofia'];
export const CITIES = ['Lisbon', 'Denver', 'Glasgow', 'Osaka', 'Hamburg', 'Porto', 'Austin', 'Leeds', 'Lyon', 'Perth'];
export const WHEN = ['yesterday', 'last Saturday', 'last week', 'this morning', 'on Sunday', 'two days ago'];

/** Everyday sentences full of common words (distractors), some with `{B}` or a topic `{word}`. */
export const CHATTER = [
  'Work has been crazy this week, so many meetings.',
  'The kids kept me busy all weekend, we barely sat down.',
  'I really love how you always make time for your family, {B}.',
  'Honestly, it has been a long day and I am just glad to be home.',
  'We had friends over for dinner and stayed up way too late.',
  'The weather finally turned, it was sunny all afternoon.',
  'I have been trying to get more sleep, it is not going great.',
  'My phone died in the middle of the day, total chaos.',
  'We watched a silly movie last night and laughed the whole time.',
  'Traffic was terrible on the way back from work again.',
  'I keep meaning to call my mom more often.',
  'It is so good to catch up with you, {B}, I missed our chats.',
  'My coworker keeps talking about {word}, not really my thing though.',
  'Did you see that article about {word}? Wild stuff.',
  'There was a thing about {word} at the community centre, I skipped it.',
  'Remember when we joked about {word}? Still makes me laugh.',
  'A friend of mine is obsessed with {word} these days.',
  'I saw an ad for {word} on the bus and thought of you.',
  'My sister asked me about {word} and I had no idea what to say.',
  'We walked past a place doing {word} and it looked packed.',
];

/** Short reactions (they also follow ordinary turns, so a short turn is no sign of evidence). */
export const REACTIONS = [
  'Haha, so true!',
  'Wow, that is amazing!',
  'Aww, thanks {B}!',
  'Sounds fun!',
  'Oh no, that sucks.',
  'Love that for you!',
  'Totally get it.',
  'That is so cool, {B}.',
  'Ha, classic.',
  'Good for you!',
  'I know, right?',
  'Fingers crossed!',
];

export const OPENERS = [
  'Hey {B}! How have you been?',
  'Hi {B}, long time no talk!',
  'Hey {B}, got a minute to catch up?',
  'Good to hear from you, {B}!',
];

export const QUESTIONS_BACK = [
  'What have you been up to, {B}?',
  'How is everything on your end?',
  'Anything new with you?',
  'How was your week, {B}?',
];

/**
 * A list a person builds up over months ("Where has {A} camped?"): three items said in three
 * sessions, all three the evidence (LoCoMo's multi-hop questions are mostly such lists: "What
 * activities does Melanie partake in?", "What books has Melanie read?"). As there, the items
 * share less and less with the question: the first says its word; the second another form of it
 * (painting, reading, city) or, in half the lists, none of its words; the third answers the other
 * speaker's `lead` (which says the word) with none of them.
 */
export interface List {
  question: string;
  items: [ListItem, ListItem, ListItem];
}

export interface ListItem {
  text: string;
  /** The other speaker's question that this item answers; without one, an ordinary question back. */
  lead?: string;
}

export const LISTS: List[] = [
  {
    question: 'Where has {A} camped?',
    items: [
      { text: 'We went camping up in the mountains {when}, freezing at night but gorgeous.' },
      { text: 'Two nights in a tent by the beach {when}, best sleep I have had in ages.' },
      {
        lead: 'Any camping trips lately, {A}?',
        text: 'A long weekend in the forest with the kids, no phone signal at all.',
      },
    ],
  },
  {
    question: 'What has {A} painted?',
    items: [
      { text: 'I painted a horse {when}, my first animal ever, the legs are a bit off.' },
      { text: 'My latest painting is a sunset over the harbour, all oranges and pinks.' },
      { lead: 'Have you been painting much, {A}?', text: 'Yes! A portrait of my grandad from an old photo.' },
    ],
  },
  {
    question: 'What instruments does {A} play?',
    items: [
      { text: 'I play clarinet in a little community band, we rehearse on Wednesdays.' },
      { text: 'Started violin lessons {when}, my neighbours must hate me already.' },
      { lead: 'Do you still play anything else, {A}?', text: 'The ukulele, mostly around the campfire.' },
    ],
  },
  {
    question: 'What books has {A} read?',
    items: [
      { text: 'I read "The Snow Child" {when} and could not put the book down.' },
      { text: 'Finished "Piranesi" in two nights, reading in bed until two in the morning.' },
      {
        lead: 'What are you reading these days, {A}?',
        text: '"Small Things Like These", short but it stays with you.',
      },
    ],
  },
  {
    question: 'What pets does {A} look after?',
    items: [
      { text: 'Luna is the laziest pet in the world, she slept on my laptop all day.' },
      { text: 'We got a puppy {when}, a golden retriever called Max, he chews everything.' },
      { lead: 'How are the pets, {A}?', text: 'Shelly the tortoise turned forty, we gave her strawberries.' },
    ],
  },
  {
    question: 'What sports has {A} tried?',
    items: [
      { text: 'I tried surfing {when}, mostly fell off but I loved it.' },
      { text: 'Joined a five-a-side football team at work, we lost every game so far.' },
      { lead: 'Tried any new sport lately, {A}?', text: 'Rock climbing, harder than it looks, my arms are jelly.' },
    ],
  },
  {
    question: 'Which cities has {A} visited?',
    items: [
      { text: 'We visited Seville {when}, the orange trees everywhere were unreal.' },
      { text: 'Prague is such a pretty city in the snow, we walked for hours.' },
      { lead: 'Where did the last city trip take you, {A}?', text: 'Vienna, cake for breakfast every single day.' },
    ],
  },
  {
    question: 'What has {A} cooked for friends?',
    items: [
      { text: 'I cooked a huge paella for friends {when}, there was nothing left.' },
      { text: 'Made lasagne for the whole gang on Saturday, three layers of it.' },
      { lead: 'Cooked anything fun lately, {A}?', text: 'A mushroom risotto for the book club, it was a hit.' },
    ],
  },
];
