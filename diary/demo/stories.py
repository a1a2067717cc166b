"""The demo diaries' words and numbers: notes, milestones, illnesses and growth tables.

Plain data, written for the demo (Chinese for the Shanghai mothers, English for the others).
Days are counted from an anchor date (today for the pregnancy, the birth date otherwise) and
twins' times in months of age, so `loader` can place them relative to any `today`.
"""
from __future__ import annotations

# (days from the anchor date, title, body); anchors: today (expecting), birth (others).
EXPECTING_NOTES = [
    (-68, "孕吐好多了", "这周早上终于不那么想吐了，早餐吃了一碗小米粥和一个鸡蛋，整个人都活过来了。"),
    (-63, "第一次听到胎心", "产检时医生用多普勒找到了胎心，咚咚咚像小火车一样，老公在旁边眼眶都红了。"),
    (-57, "告诉爸妈了", "满三个月了，周末回家告诉了爸妈，妈妈高兴得立刻翻出毛线开始织小毛衣。"),
    (-50, "给宝宝起小名", "先叫你“小豆子”吧，因为B超上的你真的像一颗小豆子。"),
    (-45, "产检小结", "血压118/76，体重比孕前长了2.5公斤，医生说很标准。下次要做唐筛。"),
    (-39, "买了孕妇枕", "晚上侧睡总是腰酸，买了一个U型枕，希望今晚能睡个好觉。"),
    (-33, "唐筛低风险", "拿到唐筛结果，低风险！悬着的心终于放下了。"),
    (-28, "开始做孕妇瑜伽", "报了孕妇瑜伽班，第一节课主要练呼吸，腰舒服多了。"),
    (-22, "肚子开始显怀", "以前的牛仔裤扣不上了，去商场买了两条孕妇裤，还挺好看。"),
    (-17, "补钙补铁", "医生提醒从这周开始每天补钙，晚饭后记得吃，手机上定了闹钟。"),
    (-12, "第一次感觉到胎动", "晚上躺着的时候，肚子里像小鱼吐了个泡泡，轻轻的一下，是你吗？"),
    (-8, "周末散步", "傍晚和老公在小区散步四十分钟，桂花开了，很香。"),
    (-5, "读绘本给你听", "今天给你读了《猜猜我有多爱你》，读到一半你好像动了一下。"),
    (-2, "准备大排畸", "预约好了下周的大排畸检查，有点紧张，也很期待看到你。"),
]
EXPECTING_FEELINGS = [
    (4, "今天精神不错，中午还小睡了一会儿。"), (2, "有点头晕，早早就躺下了。"),
    (5, "吃到了想了好几天的酸辣粉，幸福！"), (3, "上班有点累，腿有些浮肿。"),
    (4, "老公做了番茄炒蛋，胃口很好。"), (3, "晚上睡不踏实，起夜两次。"),
    (5, "同事送了一套小衣服，软软的，好可爱。"), (2, "孕吐又回来了，什么都不想吃。"),
    (4, "天气晴朗，心情也跟着明亮。"), (3, "有点担心产检结果，告诉自己放轻松。"),
    (4, "和闺蜜视频聊了一个小时，笑了好多次。"), (5, "肚子圆起来了，照镜子忍不住一直笑。"),
    (3, "下雨天，窝在沙发上看了一部老电影。"), (4, "妈妈寄来了自己腌的咸菜，吃到了家的味道。"),
    (2, "腰有点酸，走路都慢了。"), (4, "午饭后散步，遇到邻居家的小狗，心情大好。"),
    (5, "今天第一次觉得，真的要当妈妈了。"), (3, "工作有点多，提醒自己按时吃饭。"),
    (4, "老公给肚子讲了一个冷笑话，你没反应，我笑了。"), (4, "睡了个好觉，醒来神清气爽。"),
]
NEWBORN_NOTES = [
    (-98, "Glucose test", "Drank the orange glucose drink at 8am and sat in the waiting room for "
     "two hours. Results normal, thank goodness."),
    (-88, "Nursery painted", "We finally finished the nursery: a soft sage green. Tom built the cot "
     "in under two hours, which must be a record."),
    (-77, "Antenatal class", "First antenatal class. Tom practised swaddling a doll and wrapped it "
     "like a burrito."),
    (-62, "Baby shower", "Mum and the girls threw a surprise shower. So many tiny socks."),
    (-45, "Braxton Hicks", "Lots of tightenings this evening. The midwife says it's practice for "
     "the real thing."),
    (-33, "Hospital bag", "Bag packed and by the door: nappies, muslins, snacks and far too many "
     "outfits."),
    (-21, "Last day at work", "Handed over my projects and got a card signed by the whole floor. "
     "Maternity leave starts now."),
    (-12, "Birth plan", "Wrote our birth plan: water if possible, Tom on music duty, delayed cord "
     "clamping."),
    (-4, "Any day now", "Everything is ready. I've cleaned the oven twice. Come out whenever "
     "you like, little one."),
    (1, "First night home", "Isla slept in the Moses basket for three whole hours and we checked "
     "on her every ten minutes."),
    (3, "Milk came in", "Day three and the milk arrived. Feeding feels easier and she is more "
     "settled after."),
    (5, "Midwife visit", "Weighed at home: 3.22 kg, about 5% below birth weight, which the "
     "midwife says is perfectly normal."),
    (7, "Grandparents", "Tom's parents drove down from Leeds. Grandad held her for an hour and "
     "refused to hand her back."),
    (9, "Cluster feeding", "Evening marathon: she fed on and off from six until eleven. Toast and "
     "box sets got us through."),
    (11, "Paternity leave", "Tom's last few days at home. He has done nearly every nappy change."),
    (13, "Two weeks", "She follows my face now and has the loudest hiccups in London."),
]
NEWBORN_FEELINGS = [
    (4, "Good energy today, walked to the park and back."), (2, "Heartburn all evening."),
    (3, "Tired, but the nursery looks lovely."), (5, "Felt her dancing after lunch, magic."),
    (3, "Back ache. Hot water bottle and an early night."), (4, "Slept well for once!"),
    (2, "Nervous about labour. Talked it through with Tom."), (4, "Ready to meet her."),
]
PRETERM_NOTES = [  # (day from birth, "m"um / "d"ad, title, body)
    (0, "m", "你提前来了", "32周，羊水早破，你比预产期早了整整八周。1.7公斤，小小的一团，直接被送进了新生儿监护室。"),
    (2, "d", "第一次看到儿子", "隔着保温箱看你，身上贴满了线，手还没有我的大拇指长。护士说你很坚强。"),
    (6, "m", "第一次袋鼠式护理", "护士把你放在我胸口，贴着皮肤抱了四十分钟，你的心率一直很平稳。"),
    (10, "d", "撤掉无创呼吸机", "医生说你可以自己呼吸了，只需要一点点鼻导管吸氧。"),
    (16, "m", "每天送母乳", "每三小时吸一次奶，冻好送到医院。很辛苦，但想到你在喝，就值得。"),
    (24, "m", "眼底筛查正常", "第一次早产儿视网膜病筛查结果正常，两周后复查。"),
    (28, "d", "学会吸吮了", "今天你第一次用奶瓶喝完了30毫升，不用再插胃管了。"),
    (42, "d", "回家第一周", "夜里每三小时喂一次，我们轮流值班。你睡觉时哼哼唧唧的，像只小猪。"),
    (50, "m", "听力复筛通过", "两只耳朵都通过了，医生说早产宝宝也听得很清楚。"),
    (56, "m", "到了预产期", "今天本来是你的预产期。你已经在家住了三个星期，体重快3公斤了。"),
    (76, "d", "早产儿随访门诊", "医生说按矫正月龄看各项发育都正常，体重追得很好，继续加油。"),
    (105, "d", "爷爷奶奶来了", "爷爷奶奶从老家来帮忙，奶奶一抱你就不肯放下。"),
    (122, "m", "夜里睡得长了", "昨晚你一口气睡了五个小时，我醒来第一件事是去摸你的小肚子。"),
    (140, "m", "开始补铁", "随访医生建议补铁到一岁，每天一次，混在奶里你也不嫌弃。"),
    (163, "d", "第一次去公园", "推着你去世纪公园，你盯着树叶看了半天，回来睡了三个小时。"),
    (200, "m", "准备添加辅食", "按矫正月龄快六个月了，医生说可以开始尝试强化铁米粉。"),
    (215, "d", "爸爸的周末", "周末我带你，妈妈去做了个头发。你表现很好，只哭了一次。"),
    (238, "m", "回头看", "八个月前你只有1.7公斤，现在快8公斤了。谢谢每一个帮助过我们的人。"),
]
PRETERM_MILESTONES = [  # day from birth (late ones at corrected ages: due date = day 56),
    # author, title, body, picture motif, and the checklist milestone the story ticks (if any)
    (35, "m", "出院回家", "在新生儿科住了35天，今天终于抱你回家了！体重2.3公斤。", "balloons", None),
    (101, "d", "第一次对我们笑", "矫正一个半月，你看着爸爸的脸笑了，爸爸激动得拍了十几张照片。", "sun",
     "m02-social-smiles"),
    (147, "d", "趴着能抬头了", "趴着的时候能把头抬起来，坚持了好几秒。", None, "m02-movement-head-up"),
    (178, "m", "笑出声了", "奶奶逗你，你咯咯地笑出了声，全家都围过来听。", None, "m04-social-chuckles"),
    (193, "d", "会翻身了", "从趴着翻成了仰躺，把自己也吓了一跳。", "teddy", "m06-movement-rolls-over"),
    (208, "m", "会抓玩具了", "能准确地抓住摇铃，还马上往嘴里塞。", None, "m06-cognitive-reaches-for-toy"),
    (234, "m", "第一次吃米粉", "吃了两小勺米粉，皱着眉头，但没有吐出来。", "flowers", None),
]
# Checklist milestones the stories above tell of, ticked that evening: day from birth.
PRETERM_NOTED = {"m06-cognitive-mouths-things": 208}
PRETERM_PHOTOS = [(1, "d", "teddy", "Day 1", "保温箱里的你"), (60, "m", "moon", "Due date", "预产期这天"),
                  (100, "m", "balloons", "100 days", "百天快乐"), (130, "d", "sun", "", "晒太阳"),
                  (160, "m", "flowers", "", "楼下的花开了"), (220, "d", "sun", "", "周末出游"),
                  (240, "m", "teddy", "8 months", "八个月啦")]
# Weighed in the neonatal unit: (day from birth, weight kg, length cm, head cm).
PRETERM_NICU_GROWTH = [(7, 1.62, None, None), (14, 1.80, 43.0, 30.5), (21, 2.01, None, None),
                       (35, 2.30, 45.5, 31.8)]
# Check-ups by chronological month; near the WHO medians for his corrected age (2 months less).
PRETERM_CHECKUPS = [(2, 3.30, 48.8, 34.2), (3, 4.50, 53.0, 36.9), (4, 5.50, 56.8, 38.8),
                    (5, 6.30, 59.8, 40.2), (6, 6.90, 62.3, 41.4), (7, 7.40, 64.4, 42.4),
                    (8, 7.80, 66.3, 43.1)]
# (day from birth, temperatures, medicine, dose, note title, note body)
PRETERM_ILLNESS = [
    (92, [37.9, 38.2, 37.5], "对乙酰氨基酚滴剂", "0.6 ml", "打完疫苗发烧了", "百白破第一针后有点低烧，喂了一次退烧药，第二天就好了。"),
    (221, [38.3, 38.6, 38.0, 37.4], "布洛芬混悬滴剂", "1.25 ml", "第一次感冒", "流鼻涕、发烧两天，医生说是普通病毒感冒，多喝奶多休息。"),
]
TWIN_NOTES = [  # (month, "g"irl / "b"oy / "both", title, body)
    (0.4, "both", "Home at last", "Eleven days on the neonatal ward and now both of them are asleep in the same cot, exactly where they want to be."),
    (0.7, "g", "Night shifts", "Mike takes the 11pm feed, I take 3am. Lily feeds fast and falls asleep; Leo takes his time and chats."),
    (1.2, "b", "Reflux", "Leo brings back half of every feed. The doctor says it is common and he is gaining, so we keep him upright after."),
    (1.8, "g", "Cooing", "Lily makes little 'ooh' sounds whenever the ceiling fan turns."),
    (2.5, "both", "First outing together", "Took the double buggy to Century Park. Forty minutes, two naps, zero tears (from them)."),
    (3.2, "b", "Tummy time champion", "Leo holds his head up for a whole minute now and looks very proud of it."),
    (4.0, "g", "Vaccinations", "Jabs today. Lily cried for a minute, then fell asleep on my shoulder."),
    (4.6, "both", "Twin giggles", "They have discovered each other. If Leo laughs, Lily laughs, and then nobody sleeps."),
    (5.5, "b", "Grabbing everything", "Leo pulled my glasses off twice during breakfast. Nothing within reach is safe."),
    (7.0, "g", "Sleep regression", "Lily woke every hour last night. We took turns walking the hallway."),
    (7.8, "b", "Babbling", "Leo says 'ba-ba-ba' all day long. Nai Nai insists it means her."),
    (8.4, "both", "Nai Nai's visit", "Grandma came from Hangzhou for a week and made fish congee every morning. Both babies approved."),
    (9.6, "g", "Clapping", "Lily claps whenever music plays, even the washing machine jingle."),
    (10.2, "b", "Cruising", "Leo walks along the sofa holding on, then sits down with a thump and looks surprised every time."),
    (10.8, "both", "Swimming class", "First baby swim lesson. Lily kicked and splashed; Leo clung to Mike like a koala."),
    (11.6, "b", "Dada", "Leo called Mike 'dada' this morning. Mike has told everyone, twice."),
    (12.0, "both", "First birthday", "One year of twins. Two small cakes, two very messy faces, two very tired parents."),
    (13.2, "g", "Nursery visit", "Looked at two nurseries near the office. Lily went straight to the book corner."),
    (14.8, "b", "New words", "Leo now says 'car', 'dog' and 'no'. Mostly 'no'."),
    (15.5, "both", "Sharing", "They fought over the same blue spoon for ten minutes while the red one lay on the floor."),
    (16.5, "g", "Little helper", "Lily brings her shoes to the door when she wants to go out."),
    (17.5, "b", "Stairs", "Leo walks up the stairs on his own now, one hand on the rail. We bought another gate."),
    (18.6, "both", "Seaside", "First trip to the seaside in Qingdao. Sand in every pocket; they loved the waves from a safe distance."),
    (19.5, "g", "Two-word sentences", "'Mama up', 'more milk', 'Leo go'. She narrates her brother's every move."),
    (20.6, "b", "Kitchen helper", "Leo 'washed' the vegetables, which mostly means he splashed the floor."),
    (21.5, "both", "Bedtime routine", "Bath, two books, one song. It finally works most nights."),
    (22.5, "g", "Drawing", "Lily drew a circle and told us it was Daddy."),
    (23.3, "b", "Football", "Leo kicks a ball across the living room and shouts 'goal!' every time."),
]
TWIN_MILESTONES = [  # (month, who, title, body, the checklist milestone it ticks or None)
    (1.6, "g", "First smile", "A proper smile over her morning feed, not wind this time!", "m02-social-smiles"),
    (1.9, "b", "First smile", "Leo smiled at his sister before anyone else. Fair enough.", "m02-social-smiles"),
    (4.3, "b", "Rolled over", "Tummy to back on the play mat, then he lay there looking very surprised at the ceiling.", "m06-movement-rolls-over"),
    (4.9, "g", "Rolled over", "Lily rolled over to reach Leo's rattle. Motivation matters.", "m06-movement-rolls-over"),
    (6.1, "both", "First solids", "Rice cereal for both. Lily opened her mouth like a little bird; Leo wore most of his.", None),
    (6.3, "g", "First tooth", "A tiny bottom tooth. That explains the drooling.", None),
    (6.7, "b", "Sitting up", "Sat on his own for a full minute, surrounded by cushions just in case.", "m09-movement-sits-alone"),
    (7.1, "g", "Sitting up", "Lily sits steadily now and reaches for everything around her.", "m09-movement-sits-alone"),
    (8.3, "b", "Crawling", "Commando crawl first, proper crawl a week later. Straight for the cables.", None),
    (9.0, "g", "Crawling", "Lily crawls backwards only, but very fast.", None),
    (10.5, "g", "First word", "'Mama'! Clear as anything, looking right at me.", "m12-language-mama-dada"),
    (12.4, "g", "First steps", "Three wobbly steps from the sofa to Mike.", "m15-movement-first-steps"),
    (13.0, "b", "Ball!", "His first word that isn't 'mama' or 'dada'. Of course it was ball.", "m15-language-first-words"),
    (13.8, "b", "First steps", "Leo let go of the table and walked to his sister.", "m15-movement-first-steps"),
    (18.0, "b", "Running", "Leo no longer walks anywhere. He runs, then falls over laughing.", "m24-movement-runs"),
    (21.0, "g", "Counts to three", "'One, two, free!' before every jump off the bottom step.", None),
]
# Checklist milestones the notes above tell of: ticked the day of the note, not at random.
# (who, milestone id): month of age.
TWIN_NOTED = {
    ("g", "m04-language-coos"): 1.8,
    ("both", "m06-social-laughs"): 4.6,
    ("b", "m06-cognitive-reaches-for-toy"): 5.5,
    ("b", "m09-language-babbles"): 7.8,
    ("g", "m15-social-claps"): 9.6,
    ("b", "m12-movement-cruises"): 10.2,
    ("b", "m12-language-mama-dada"): 11.6,
    ("b", "m24-movement-stairs"): 17.5,
    ("g", "m24-language-two-words"): 19.5,
    ("b", "m24-movement-kicks-ball"): 23.3,
}
TWIN_PHOTOS = [  # (month, motif, caption drawn on it, title), one of each twin
    (0.5, "teddy", "Welcome", "First week home"), (3.0, "sun", "3 months", "Three months"),
    (6.0, "flowers", "6 months", "Half a year"), (9.0, "moon", "", "Night night"),
    (12.0, "balloons", "1 year", "Happy first birthday"), (15.0, "sun", "", "Spring walk"),
    (18.6, "sun", "Qingdao", "At the seaside"), (22.0, "flowers", "", "In the garden"),
]
TWIN_ILLNESS = [  # (month, who, temperatures, medicine, dose, title, body)
    (9.1, "both", [38.1, 37.6], "Paracetamol", "2.5 ml", "First cold",
     "Runny noses all round. Lots of cuddles and saline drops."),
    (14.2, "b", [38.9, 38.4, 37.6], "Amoxicillin", "5 ml twice a day", "Ear infection",
     "Leo kept pulling his ear. The doctor found an ear infection; a week of antibiotics."),
    (20.2, "g", [38.5, 37.9], "Paracetamol", "5 ml", "Hand, foot and mouth",
     "Spots on her hands and a sore mouth. Ice lollies for lunch; Leo stayed with Nai Nai."),
]
# WHO Child Growth Standards medians by month of age:
# month: ((girl kg, length cm, head cm), (boy kg, length cm, head cm)).
WHO_MEDIANS = {
    1: ((4.2, 53.7, 36.5), (4.5, 54.7, 37.3)),
    2: ((5.1, 57.1, 38.3), (5.6, 58.4, 39.1)),
    3: ((5.8, 59.8, 39.5), (6.4, 61.4, 40.5)),
    4: ((6.4, 62.1, 40.6), (7.0, 63.9, 41.6)),
    5: ((6.9, 64.0, 41.5), (7.5, 65.9, 42.6)),
    6: ((7.3, 65.7, 42.2), (7.9, 67.6, 43.3)),
    7: ((7.6, 67.3, 42.8), (8.3, 69.2, 44.0)),
    8: ((7.9, 68.7, 43.4), (8.6, 70.6, 44.5)),
    9: ((8.2, 70.1, 43.8), (8.9, 72.0, 45.0)),
    10: ((8.5, 71.5, 44.2), (9.2, 73.3, 45.4)),
    11: ((8.7, 72.8, 44.6), (9.4, 74.5, 45.8)),
    12: ((8.9, 74.0, 44.9), (9.6, 75.7, 46.1)),
    15: ((9.6, 77.5, 45.7), (10.3, 79.1, 46.8)),
    18: ((10.2, 80.7, 46.2), (10.9, 82.3, 47.4)),
    21: ((10.9, 83.7, 46.7), (11.5, 85.1, 47.8)),
    24: ((11.5, 86.4, 47.2), (12.2, 87.8, 48.3)),
}
